/** The errors of @skewless/worker. */
import { SkewlessError } from '@skewless/core'
import { errorMessage } from '@skewless/core/internal'
import type { ReleasedPartition } from './types.js'

/**
 * A partition did not stop cleanly: its last checkpoint could not be committed, or closing its
 * store or log failed. Nothing committed is lost: the next owner resumes from the last checkpoint
 * that was committed (`released.checkpoint`), re-reading what came after it.
 */
export class PartitionStopError extends SkewlessError {
  /** Always `'partition-stop'`. */
  declare readonly code: 'partition-stop'
  /** What is known about the partition: its last committed checkpoint and the error (`released.error`). */
  readonly released: ReleasedPartition

  constructor(partition: number, released: ReleasedPartition) {
    const why = released.error instanceof Error ? released.error.message : String(released.error)
    super(
      'partition-stop',
      errorMessage(
        'worker',
        `partition ${partition} did not stop cleanly (${why}); the next owner resumes from its last committed checkpoint`,
      ),
      { cause: released.error },
    )
    this.released = released
  }
}
