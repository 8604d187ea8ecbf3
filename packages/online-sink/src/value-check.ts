/** Checks that a value matches its feature's declared type (core's `fitsValueType`), as a real store's encoder would. */
import type { FeatureUpdate } from '@skewless/core'
import { fitsValueType } from '@skewless/core/adapter'
import type { OnlineFeatureConfig } from './types.js'

/**
 * A message saying what is wrong with `w.value` for feature `f`, or `undefined` when it is fine.
 * `null` is always fine. Never throws, whatever the value (a bigint or a circular object must
 * cost its own write only, not the batch a store checks it in).
 */
export function checkValue(f: OnlineFeatureConfig, w: FeatureUpdate): string | undefined {
  const v: unknown = w.value
  // Core's one rule (a double may be NaN or ±Infinity), as at the pipeline's door and in the log.
  if (fitsValueType(v, f.valueType)) return undefined
  return `feature '${f.name}' is ${f.valueType}, got ${describeValue(v)}${f.valueType === 'int64' ? ' (needs a safe integer)' : ''}`
}

/**
 * A short description of any value: its type and, for primitives, the value itself. Not
 * `JSON.stringify`, which throws on bigints and circular objects and writes NaN as `null`.
 */
export function describeValue(v: unknown): string {
  switch (typeof v) {
    case 'number':
      return `number ${String(v)}`
    case 'bigint':
      return `bigint ${String(v)}n`
    case 'string':
      return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`
    case 'boolean':
      return `boolean ${String(v)}`
    case 'undefined':
      return 'undefined'
    case 'object':
      return v === null ? 'null' : Array.isArray(v) ? 'an array' : 'an object'
    default:
      return typeof v
  }
}
