/** Checks that a value matches its feature's declared type, as a real store's encoder would. */
import type { FeatureUpdate } from '@skewless/core'
import type { OnlineFeatureConfig } from './types.js'

/**
 * A message saying what is wrong with `w.value` for feature `f`, or `undefined` when it is fine.
 * `null` is always fine. Never throws, whatever the value (a bigint or a circular object must
 * cost its own write only, not the batch a store checks it in).
 */
export function checkValue(f: OnlineFeatureConfig, w: FeatureUpdate): string | undefined {
  const v: unknown = w.value
  if (v === null) return undefined
  switch (f.valueType) {
    case 'double':
      return typeof v === 'number' ? undefined : `feature '${f.name}' is double, got ${describeValue(v)}`
    case 'int64':
      return typeof v === 'number' && Number.isSafeInteger(v)
        ? undefined
        : `feature '${f.name}' is int64, got ${describeValue(v)} (needs a safe integer)`
    case 'string':
      return typeof v === 'string' ? undefined : `feature '${f.name}' is string, got ${describeValue(v)}`
    case 'bool':
      return typeof v === 'boolean' ? undefined : `feature '${f.name}' is bool, got ${describeValue(v)}`
  }
  return undefined
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
