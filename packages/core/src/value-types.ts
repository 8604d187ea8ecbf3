/**
 * The one rule for which values fit a feature's declared type. The pipeline's door (the aggregators'
 * `validate`), the online sink and every online store, the offline logs and the join's reader all
 * call it, so a value one path takes is never refused by another.
 *
 * NaN: a `double` is any JS number, NaN and ±Infinity included. Every store and log carries them
 * (Redis as the text `NaN` / `Infinity`, Parquet DOUBLE and Arrow Float64 bit for bit, checkpoints
 * spelled out), and the skew audit counts NaN equal to NaN. Refusing NaN at the pipeline's door while
 * the stores accepted it (as `last('double')` did) made the same value a dead letter on one path and
 * a stored value on another. Separate from this rule, the arithmetic aggregators (sum, min, max,
 * mean) refuse non-finite *inputs*: one NaN or Infinity poisons every window it enters and cannot be
 * retracted (`Infinity - Infinity` is NaN).
 */
import type { ValueType } from './types.js'

/** All value types, in the order the docs list them. */
export const VALUE_TYPES: readonly ValueType[] = ['double', 'int64', 'string', 'bool']

/** Whether `t` names a value type. */
export function isValueType(t: unknown): t is ValueType {
  return t === 'double' || t === 'int64' || t === 'string' || t === 'bool'
}

/**
 * Whether `v` fits `type`: `null` always; a double is any number (NaN and ±Infinity included); an
 * int64 a safe integer number (a JS number carries no more); a string a string; a bool a boolean.
 */
export function fitsValueType(v: unknown, type: ValueType): boolean {
  if (v === null) return true
  switch (type) {
    case 'double':
      return typeof v === 'number'
    case 'int64':
      return Number.isSafeInteger(v)
    case 'string':
      return typeof v === 'string'
    case 'bool':
      return typeof v === 'boolean'
  }
  return false
}

/** `undefined` when `v` fits `type` (see `fitsValueType`), else a message saying what was expected. */
export function checkValueType(v: unknown, type: ValueType): string | undefined {
  if (fitsValueType(v, type)) return undefined
  switch (type) {
    case 'double':
      return `expected a double (a number), got ${describe(v)}`
    case 'int64':
      return `expected an int64 (a safe integer number), got ${describe(v)}`
    case 'string':
      return `expected a string, got ${describe(v)}`
    case 'bool':
      return `expected a boolean, got ${describe(v)}`
  }
  return `unknown value type ${describe(type)}: use one of ${VALUE_TYPES.join(', ')}`
}

/** A short description of a value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'null'
  if (v === undefined) return 'undefined'
  if (typeof v === 'number') return String(v)
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)
  return typeof v
}
