/**
 * The contracts of effectively-once checkpoints, in which the offline log is the system of record
 * (docs/decisions/checkpoint-protocol.md). Dependency-free types only.
 *
 * - A `ResumableSource` reads from a `SourcePosition` and tells, with every batch, the position
 *   right after it. The pipeline keeps the position of the last batch it processed per source.
 * - A `CommittedCheckpoint` is operator state + those positions. It is committed *by the log*, in
 *   the same atomic commit as the records it covers (`CheckpointLog`), so resuming needs only the
 *   log and a source that can replay from a position.
 * - `CommitMarks` are what a log commit may carry besides records: the latest checkpoint, and how
 *   far the log has consumed the online store's changelog.
 */
import type { CheckpointData } from './checkpoint.js'
import type { FeatureWrite } from './types.js'

/** A position in a source or changelog: plain JSON the source understands (an offset, a stream sequence). */
export type SourcePosition =
  | string
  | number
  | boolean
  | null
  | readonly SourcePosition[]
  | { readonly [key: string]: SourcePosition }

/** A batch of events read by a resumable source, with the position right after its last event. */
export interface PositionedBatch<E> {
  /** The events, in source order; empty when only the position moved (e.g. every message was a dead letter). */
  events: E[]
  /** Reading from this position yields what follows the batch. */
  position: SourcePosition
}

/** Options of `ResumableSource.open`. */
export interface SourceOpenOptions {
  /** Ends the reading: the iterator returns as soon as it can and releases what it holds. */
  signal: AbortSignal
}

/**
 * A source that can resume from a position (a replayable stream: a file offset, a JetStream
 * sequence, a Kafka offset). The pipeline stores its positions in each checkpoint.
 */
export interface ResumableSource<E> {
  /** Stable name, unique within a pipeline (e.g. `'clicks/partition=3'`): a checkpoint's positions are matched by it. */
  readonly name: string
  /** Read batches from right after `from`; `undefined`: from the source's configured start. */
  open(from: SourcePosition | undefined, options: SourceOpenOptions): AsyncIterable<PositionedBatch<E>>
}

/** Format tag of `CommittedCheckpoint`s written by this version. */
export type CommittedCheckpointFormat = 'skewless.checkpoint/1'

/** Everything a restarted pipeline needs, besides sources that can replay from a position. */
export interface CommittedCheckpoint {
  /** Format tag. */
  format: CommittedCheckpointFormat
  /** The operator state. */
  operator: CheckpointData
  /** Position per source name, right after the last event the operator state covers. */
  sources: { [name: string]: SourcePosition }
  /** When it was taken, on the pipeline's processing clock (ms). */
  takenAt: number
}

/** What a log commit may record besides its records; absent keys keep their previous value. */
export interface CommitMarks {
  /** The pipeline checkpoint the log's records now cover. */
  checkpoint?: CommittedCheckpoint
  /**
   * How far the log has consumed the online store's changelog: every applied write up to this
   * position is in the log (the position is the store's, opaque to the log).
   */
  changelog?: SourcePosition
}

/** Options of a marked append. */
export interface MarkedAppendOptions {
  /** Recorded in the same atomic commit as the batch (and every batch appended before it). */
  marks: CommitMarks
}

/**
 * A log that records `CommitMarks` atomically with its records: after a crash, the last marks it
 * returns describe exactly the records it holds. The offline logs implement it.
 */
export interface CheckpointLog {
  /**
   * Append `batch` and record `marks` in one atomic commit: either both are durable when the
   * promise resolves, or (after a crash) neither is visible. Marks take effect only together with
   * every batch appended before this call.
   */
  appendMarked(batch: readonly FeatureWrite[], options: MarkedAppendOptions): Promise<void>
  /** The latest value of each mark, as of the last durable commit (`{}` for a log that has none). */
  readMarks(): Promise<CommitMarks>
}

/**
 * Where a pipeline commits its checkpoints and finds the one to resume from. A log in front of a
 * changelog-capable store (`changelogCommitter` in @skewless/online-sink) or a `CheckpointLog`
 * written through the sink's `downstream` (at-least-once only; see docs/consistency.md).
 */
export interface CheckpointStore {
  /**
   * Commit `checkpoint` atomically with every record it covers. The pipeline calls it after flushing
   * its sinks, so every update the checkpoint covers has been acknowledged by the online store.
   */
  commitCheckpoint(checkpoint: CommittedCheckpoint): Promise<void>
  /** The last committed checkpoint, or `undefined` when none was committed. */
  latestCheckpoint(): Promise<CommittedCheckpoint | undefined>
}
