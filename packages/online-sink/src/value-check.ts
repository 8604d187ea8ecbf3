/** Checks that a value matches its feature's declared type, as a real store's encoder would. */
import type { FeatureUpdate } from '@skewless/core'
import type { OnlineFeatureConfig } from './types.js'

/** A message saying what is wrong with `w.value` for feature `f`, or `undefined` when it is fine. `null` is always fine. */
export function checkValue(f: OnlineFeatureConfig, w: FeatureUpdate): string | undefined {
  const v = w.value
  if (v === null) return undefined
  switch (f.valueType) {
    case 'double':
      return typeof v === 'number'
        ? undefined
        : `feature '${f.name}' is double, got ${typeof v} ${JSON.stringify(v)}`
    case 'int64':
      return typeof v === 'number' && Number.isSafeInteger(v)
        ? undefined
        : `feature '${f.name}' is int64, got ${JSON.stringify(v)} (needs a safe integer)`
    case 'string':
      return typeof v === 'string' ? undefined : `feature '${f.name}' is string, got ${typeof v}`
    case 'bool':
      return typeof v === 'boolean' ? undefined : `feature '${f.name}' is bool, got ${typeof v}`
  }
  return undefined
}
