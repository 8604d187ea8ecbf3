/**
 * Value encoding of one hash field: `<eventTime>,<version>,<tag><payload>`, e.g.
 * `1764000000000,3,d42.5`. The Lua script compares `(eventTime, version)` by reading up to the
 * second comma; the payload may contain commas. Tags: `d` number, `s` string, `t`/`f` boolean,
 * `n` null. Decimal text, because Lua parses it with `tonumber` (exact for integers < 2^53); the Lua
 * script stores the payload as is and never parses or re-encodes it.
 */
import type { FeatureUpdate, FeatureValue, ValueType } from '@skewless/core'
import { fitsValueType } from '@skewless/core/adapter'
import type { StoredValue } from '@skewless/online-sink/adapter'

/** The stored form of an update, or `undefined` when its value does not fit the declared type. */
export function encodeEntry(w: FeatureUpdate, valueType: ValueType): string | undefined {
  const v = w.value
  // Core's one rule decides what fits (a double may be NaN or ±Infinity: `NaN`, `Infinity` read back).
  if (!fitsValueType(v, valueType)) return undefined
  // One template per write: no intermediate payload string on the hot path.
  switch (typeof v) {
    case 'number':
      // `${-0}` is "0": a double -0 is spelled out, so it reads back as -0 like the offline log keeps
      // it (Parquet DOUBLE, Arrow Float64); `Number('-0')` is -0. An int64 has no -0 there: plain.
      return `${w.eventTime},${w.version},d${valueType === 'double' && Object.is(v, -0) ? '-0' : v}`
    case 'string':
      return `${w.eventTime},${w.version},s${v}`
    case 'boolean':
      return `${w.eventTime},${w.version},${v ? 't' : 'f'}`
    default:
      return `${w.eventTime},${w.version},n`
  }
}

/** Decode a stored field; `undefined` when it is not in this encoding (written by something else). */
export function decodeStored(raw: string): StoredValue | undefined {
  const c1 = raw.indexOf(',')
  const c2 = c1 === -1 ? -1 : raw.indexOf(',', c1 + 1)
  if (c2 === -1 || c2 + 1 >= raw.length) return undefined
  const eventTime = Number(raw.slice(0, c1))
  const version = Number(raw.slice(c1 + 1, c2))
  if (Number.isNaN(eventTime) || Number.isNaN(version)) return undefined
  const tag = raw.charCodeAt(c2 + 1)
  let value: FeatureValue
  switch (tag) {
    case 100: // d
      value = Number(raw.slice(c2 + 2))
      break
    case 115: // s
      value = raw.slice(c2 + 2)
      break
    case 116: // t
      value = true
      break
    case 102: // f
      value = false
      break
    case 110: // n
      value = null
      break
    default:
      return undefined
  }
  return { value, eventTime, version }
}
