import { SkewlessError, type SkewlessErrorOptions } from '@skewless/core'
import type { RejectedWrite } from './types.js'

/**
 * A record given to `append` was invalid (unknown feature, value of the wrong type, non-finite or
 * fractional time) and no dead-letter sink was configured. Nothing of the batch was written.
 */
export class InvalidRecordError extends SkewlessError {
  /** The first rejected record of the batch, with the reason. */
  readonly rejected: RejectedWrite
  /** How many records of the batch were invalid. */
  readonly rejectedCount: number

  constructor(rejected: RejectedWrite, rejectedCount: number, options?: SkewlessErrorOptions) {
    const r = rejected.record
    super(
      'invalid-record',
      `offline-log: record rejected (${rejected.code}) for entity ${JSON.stringify(r?.entity)}, ` +
        `feature ${JSON.stringify(r?.feature)}: ${rejected.reason}` +
        (rejectedCount > 1 ? ` (and ${rejectedCount - 1} more invalid record(s) in the batch)` : '') +
        '. Nothing of the batch was written; fix the record or set `deadLetters` to route bad records aside.',
      options,
    )
    this.rejected = rejected
    this.rejectedCount = rejectedCount
  }
}
