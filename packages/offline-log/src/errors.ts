import { SkewlessError, type SkewlessErrorOptions } from '@skewless/core'
import { errorMessage } from '@skewless/core/internal'
import type { RejectedWrite } from './types.js'

/**
 * A record given to `append` was invalid (unknown feature, value of the wrong type, non-finite or
 * fractional time) and no dead-letter sink was configured. Nothing of the batch was written.
 */
export class InvalidRecordError extends SkewlessError {
  /** Always `'invalid-record'`. */
  declare readonly code: 'invalid-record'
  /** The first rejected record of the batch, with the reason. */
  readonly rejected: RejectedWrite
  /** How many records of the batch were invalid. */
  readonly rejectedCount: number

  constructor(rejected: RejectedWrite, rejectedCount: number, options?: SkewlessErrorOptions) {
    const r = rejected.record
    super(
      'invalid-record',
      errorMessage(
        'offline-log',
        `record rejected (${rejected.reason}) for entity ${JSON.stringify(r?.entity)}, ` +
          `feature ${JSON.stringify(r?.feature)}: ${rejected.message}` +
          (rejectedCount > 1 ? ` (and ${rejectedCount - 1} more invalid record(s) in the batch)` : '') +
          '; nothing of the batch was written',
        { readme: 'offline-log' },
      ),
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
  /** Always `'marks-refused'`. */
  declare readonly code: 'marks-refused'
  constructor(options?: SkewlessErrorOptions) {
    super(
      'marks-refused',
      errorMessage(
        'offline-log',
        'appendMarked refused: an earlier append failed, so these marks would cover records the log does not hold; resume from readMarks()',
        { readme: 'offline-log' },
      ),
      options,
    )
  }
}
