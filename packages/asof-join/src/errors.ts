import { SkewlessError, type SkewlessErrorOptions } from '@skewless/core'

/** Base of the as-of join's input errors: `column` names the offending column. */
export class AsOfJoinInputError extends SkewlessError {
  /** The label or log column at fault. */
  readonly column: string

  constructor(code: string, column: string, message: string, options?: SkewlessErrorOptions) {
    super(code, `asof-join: ${message}`, options)
    this.column = column
  }
}

/** A required label or log column is absent. Code `'missing-column'`. */
export class MissingColumnError extends AsOfJoinInputError {
  constructor(column: string, where: 'labels' | 'log', hint = '') {
    super('missing-column', column, `${where} have no column '${column}'${hint}`)
  }
}

/** A column has a type the join cannot use (e.g. a string time column). Code `'column-type'`. */
export class ColumnTypeError extends AsOfJoinInputError {
  constructor(column: string, message: string, options?: SkewlessErrorOptions) {
    super('column-type', column, message, options)
  }
}

/** A time is null, NaN or infinite. Code `'invalid-time'`. */
export class InvalidTimeError extends AsOfJoinInputError {
  /** Row index of the first bad time. */
  readonly row: number

  constructor(column: string, row: number, value: unknown) {
    super(
      'invalid-time',
      column,
      `column '${column}' row ${row} has time ${String(value)}: times must be finite ms since epoch (or Dates)`,
    )
    this.row = row
  }
}

/** Label entity keys and log entity keys are of incompatible kinds. Code `'entity-type-mismatch'`. */
export class EntityTypeMismatchError extends AsOfJoinInputError {
  constructor(column: string, message: string) {
    super('entity-type-mismatch', column, message)
  }
}

/** The log holds records the join does not support (additive tiles). Code `'unsupported-record'`. */
export class UnsupportedRecordError extends AsOfJoinInputError {
  constructor(column: string, message: string) {
    super('unsupported-record', column, message)
  }
}
