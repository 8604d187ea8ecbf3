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

/**
 * `appendMarked` was refused: an append or write made before it failed (its records are not in the
 * log), so these marks would claim records the log does not hold. Code `'marks-refused'`. Nothing of
 * this call was written. Call `readMarks()` and resume from the marks it returns (re-append what
 * follows them); marked appends made after that call are accepted again.
 */
export class MarksRefusedError extends SkewlessError {
  constructor(options?: SkewlessErrorOptions) {
    super(
      'marks-refused',
      'offline-log: appendMarked refused: an earlier append failed, so these marks would cover records the ' +
        'log does not hold. Call readMarks() and resume from the marks it returns.',
      options,
    )
  }
}
