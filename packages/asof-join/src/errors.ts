import { InvalidArgumentError, SkewlessError, type SkewlessErrorOptions } from '@skewless/core'
import { errorMessage } from '@skewless/core/internal'

/** Base of the as-of join's input errors: `column` names the offending column. */
export class AsOfJoinInputError extends SkewlessError {
  /** One of this family's codes: `missing-column`, `column-type`, `invalid-time`, `int64-range`, `entity-type-mismatch`, `unsupported-record`, `missing-feature`. */
  declare readonly code:
    | 'missing-column'
    | 'column-type'
    | 'invalid-time'
    | 'int64-range'
    | 'entity-type-mismatch'
    | 'unsupported-record'
    | 'missing-feature'
  /** The label or log column at fault. */
  readonly column: string

  constructor(
    code: AsOfJoinInputError['code'],
    column: string,
    message: string,
    options?: SkewlessErrorOptions,
  ) {
    super(code, errorMessage('asof-join', message), options)
    this.column = column
  }
}

/** A required label or log column is absent. Code `'missing-column'`. */
export class MissingColumnError extends AsOfJoinInputError {
  /** Always `'missing-column'`. */
  declare readonly code: 'missing-column'
  constructor(column: string, where: 'labels' | 'log', hint = '') {
    super('missing-column', column, `${where} have no column '${column}'${hint}`)
  }
}

/** A column has a type the join cannot use (e.g. a string time column). Code `'column-type'`. */
export class ColumnTypeError extends AsOfJoinInputError {
  /** Always `'column-type'`. */
  declare readonly code: 'column-type'
  constructor(column: string, message: string, options?: SkewlessErrorOptions) {
    super('column-type', column, message, options)
  }
}

/** A time is null, NaN, infinite, or (a Timestamp/Date) outside the instants the log stores. Code `'invalid-time'`. */
export class InvalidTimeError extends AsOfJoinInputError {
  /** Always `'invalid-time'`. */
  declare readonly code: 'invalid-time'
  /** Row index of the first bad time. */
  readonly row: number

  constructor(column: string, row: number, value: unknown, reason?: string) {
    super(
      'invalid-time',
      column,
      `column '${column}' row ${row} has time ${String(value)}${reason === undefined ? ': times must be finite ms since epoch (or Dates)' : ` (ms), which ${reason}`}`,
    )
    this.row = row
  }
}

/**
 * With `int64: 'number'`, an int64 feature value a JS number cannot hold exactly (|v| > 2^53 - 1).
 * Code `'int64-range'`. Ask for `int64: 'bigint'` to get it exactly.
 */
export class Int64RangeError extends AsOfJoinInputError {
  /** Always `'int64-range'`. */
  declare readonly code: 'int64-range'
  /** Output row of the value. */
  readonly row: number

  constructor(feature: string, row: number, value: bigint) {
    super(
      'int64-range',
      feature,
      `feature '${feature}' row ${row} is the int64 ${value}, beyond 2^53 - 1: a number cannot hold it exactly; join with int64: 'bigint'`,
    )
    this.row = row
  }
}

/** Label entity keys and log entity keys are of incompatible kinds. Code `'entity-type-mismatch'`. */
export class EntityTypeMismatchError extends AsOfJoinInputError {
  /** Always `'entity-type-mismatch'`. */
  declare readonly code: 'entity-type-mismatch'
  constructor(column: string, message: string) {
    super('entity-type-mismatch', column, message)
  }
}

/** The log holds records the join does not support (additive tiles). Code `'unsupported-record'`. */
export class UnsupportedRecordError extends AsOfJoinInputError {
  /** Always `'unsupported-record'`. */
  declare readonly code: 'unsupported-record'
  constructor(column: string, message: string) {
    super('unsupported-record', column, message)
  }
}

/**
 * An option of `asOfJoin` has a value it cannot take (e.g. `inclusive: 'yes'`). Still a core
 * `InvalidArgumentError` (code `'invalid-argument'`); `option` names the option.
 */
export class InvalidOptionError extends InvalidArgumentError {
  /** The option at fault, e.g. `'inclusive'` or `'features'`. */
  readonly option: string

  constructor(option: string, message: string, options?: SkewlessErrorOptions) {
    super(errorMessage('asof-join', message), options)
    this.option = option
  }
}

/** A requested feature has no record at all in a table log (a typo, or the wrong log). Code `'missing-feature'`. */
export class MissingFeatureError extends AsOfJoinInputError {
  /** Always `'missing-feature'`. */
  declare readonly code: 'missing-feature'
  /** The requested feature absent from the log. */
  readonly feature: string

  constructor(feature: string, present: readonly string[]) {
    super(
      'missing-feature',
      'feature',
      `feature '${feature}' has no record in the log table (column 'feature' holds ${present.length > 0 ? present.map((f) => `'${f}'`).join(', ') : 'no feature'}): check its name, or join against the log it was written to`,
    )
    this.feature = feature
  }
}

/** The log was closed before the join read it (its `scan` threw a `ClosedError`). Code `'log-closed'`. */
export class LogClosedError extends SkewlessError {
  /** Always `'log-closed'`. */
  declare readonly code: 'log-closed'
  constructor(options?: SkewlessErrorOptions) {
    super(
      'log-closed',
      errorMessage(
        'asof-join',
        'the offline log is closed: join before calling close(), or open the log again',
      ),
      options,
    )
  }
}
