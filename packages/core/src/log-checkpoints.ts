/**
 * Checkpoints committed by a log that the online sink writes through its `downstream` (no store
 * changelog). The log records the checkpoint after everything the sink forwarded before it, so a
 * restart resumes consistently; but writes applied online after the checkpoint and not yet logged
 * are logged `stale` by the replay, or not at all when overwritten before the crash: this gives
 * at-least-once, not effectively-once (docs/consistency.md). Prefer `changelogCommitter`.
 */
import type { CheckpointLog, CheckpointStore } from './checkpoint-types.js'

/** A `CheckpointStore` that commits checkpoints as marks of `log`. */
export function logCheckpoints(log: CheckpointLog): CheckpointStore {
  return {
    commitCheckpoint: (checkpoint) => log.appendMarked([], { marks: { checkpoint } }),
    latestCheckpoint: async () => (await log.readMarks()).checkpoint,
  }
}
