/**
 * Low-level readers of Arrow `Data` chunks into plain typed arrays. 64-bit integers (Int64,
 * Timestamp, Date(ms)) are read through an Int32 view of their buffer: building a BigInt per value
 * costs an order of magnitude more than two 32-bit loads.
 */
import { END_STORABLE_TIME, MIN_STORABLE_TIME } from '@skewless/core'
import { divInt64, getInt64 } from '@skewless/core/internal'
import { type Data, DataType, DateUnit, TimeUnit } from 'apache-arrow'
import { ColumnTypeError, InvalidTimeError } from './errors.js'

/**
 * How a column's stored integers become ms: a positive result multiplies (s → 1000, Date(day) →
 * 86 400 000, ms → 1), a negative one is an exact divisor (µs → -1000, ns → -1 000 000), done in
 * integer arithmetic on the raw 64-bit values (see `readNumbers`). Throws naming the column.
 */
export function timeFactor(type: DataType, column: string): number {
  if (DataType.isTimestamp(type)) {
    switch (type.unit) {
      case TimeUnit.SECOND:
        return 1000
      case TimeUnit.MILLISECOND:
        return 1
      case TimeUnit.MICROSECOND:
        return -1000
      default:
        return -1_000_000
    }
  }
  if (DataType.isDate(type)) return type.unit === DateUnit.DAY ? 86_400_000 : 1
  if (DataType.isInt(type) || DataType.isFloat(type)) return 1
  throw new ColumnTypeError(
    column,
    `column '${column}' has type ${String(type)}: a time column must be a Timestamp, Date, integer or float (ms since epoch)`,
  )
}

/**
 * The instants the offline log stores: whole ms in the UTC years 0000 to 9999 (core's storable-time
 * rule). A converted Timestamp/Date outside them is an error, never a rounded or wrapped time.
 */
const MIN_STORABLE_MS = MIN_STORABLE_TIME
const END_STORABLE_MS = END_STORABLE_TIME

/** Whether slot `i` (relative to the Data's offset) is null. */
export function isNull(data: Data, i: number): boolean {
  if (data.nullCount === 0) return false
  const bm = data.nullBitmap
  if (!bm || bm.length === 0) return false
  const k = data.offset + i
  return ((bm[k >> 3] as number) & (1 << (k & 7))) === 0
}

const int32Views = new WeakMap<object, Int32Array>()

/** The 64-bit values of a Data as an Int32 (lo, hi) view, cached per buffer. */
export function int64View(values: BigInt64Array | BigUint64Array | Int32Array): Int32Array {
  if (values instanceof Int32Array) return values
  let v = int32Views.get(values)
  if (!v) {
    v = new Int32Array(values.buffer, values.byteOffset, values.length * 2)
    int32Views.set(values, v)
  }
  return v
}

/** Whether a Data stores 64-bit integers (Int64, Timestamp, Date(ms)): read them with `int64View`. */
export function is64(data: Data): boolean {
  const v = data.values as unknown
  return v instanceof BigInt64Array || v instanceof BigUint64Array
}

/**
 * How a time with a sub-millisecond part (a µs or ns Timestamp) is kept: `'half'` (labels) as
 * `floor(ms) + 0.5`, which compares exactly against every whole-ms log time under both `<=` and `<`;
 * `'ceil'` (log times) as the next whole ms, so a record is never eligible before it happened.
 */
export type SubMs = 'half' | 'ceil'

/**
 * Read `n` numbers from row `start` of a numeric/time Data into `out[0..n)`, converted to ms by
 * `factor` (see `timeFactor`; Timestamp/Date columns are range-checked against the storable
 * instants). When `nullsAre` is undefined a null throws `InvalidTimeError` (row = `rowBase + start + i`).
 *
 * Arrow JS slices a Data by slicing its value buffers and moving `offset`, which then only applies
 * to the validity bitmap (and Bool bits): values are read at `start + i`, validity at
 * `offset + start + i`.
 */
export function readNumbers(
  data: Data,
  start: number,
  n: number,
  out: Float64Array,
  factor: number,
  column: string,
  rowBase: number,
  nullsAre?: number,
  subMs: SubMs = 'ceil',
): void {
  const isTime = DataType.isTimestamp(data.type) || DataType.isDate(data.type)
  if (is64(data)) {
    const v = int64View(data.values as BigInt64Array)
    if (factor < 0) {
      // Exact integer division of the 64-bit value (core's divInt64): no BigInt, no rounding.
      const d = -factor
      for (let i = 0; i < n; i++) out[i] = divInt64(v, start + i, d, subMs)
    } else {
      for (let i = 0; i < n; i++) out[i] = getInt64(v, start + i) * factor
    }
  } else {
    const v = data.values as Float64Array
    if (factor === 1) for (let i = 0; i < n; i++) out[i] = v[start + i] as number
    else for (let i = 0; i < n; i++) out[i] = (v[start + i] as number) * factor
  }
  if (data.nullCount > 0) {
    for (let i = 0; i < n; i++) {
      if (isNull(data, start + i)) {
        if (nullsAre === undefined) throw new InvalidTimeError(column, rowBase + start + i, null)
        out[i] = nullsAre
      }
    }
  }
  if (nullsAre === undefined) {
    for (let i = 0; i < n; i++) {
      const x = out[i] as number
      if (x - x !== 0) throw new InvalidTimeError(column, rowBase + start + i, x)
    }
  }
  if (isTime) {
    for (let i = 0; i < n; i++) {
      const x = out[i] as number
      if (x < MIN_STORABLE_MS || x >= END_STORABLE_MS) {
        if (nullsAre !== undefined && Object.is(x, nullsAre)) continue
        throw new InvalidTimeError(
          column,
          rowBase + start + i,
          x,
          `is outside the UTC years 0000-9999 the offline log stores (${MIN_STORABLE_MS} <= ms < ${END_STORABLE_MS}): check the column's unit`,
        )
      }
    }
  }
}

/**
 * Row reader of a Utf8 / LargeUtf8 / Dictionary<Utf8> Data that keeps every code point. Arrow's own
 * `Vector.get` decodes with a `TextDecoder` that drops a leading U+FEFF (its default `ignoreBOM:
 * false`), so a value `'\uFEFFv'` would come back as `'v'`.
 */
export function stringReader(data: Data): (row: number) => string | null {
  if (DataType.isDictionary(data.type)) {
    const dict = data.dictionary
    const idx = data.values as Int32Array
    const parts = (dict?.data ?? []).map((d) => ({ read: stringReader(d as Data), length: d.length }))
    const cache: (string | null | undefined)[] = []
    return (row) => {
      if (isNull(data, row)) return null
      let k = Number(idx[row])
      let s = cache[k]
      if (s === undefined) {
        const at = k
        let p = 0
        while (p < parts.length - 1 && k >= (parts[p] as { length: number }).length) {
          k -= (parts[p] as { length: number }).length
          p++
        }
        s = (parts[p] as { read: (r: number) => string | null }).read(k)
        cache[at] = s
      }
      return s
    }
  }
  const bytes = data.values as Uint8Array
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const offs = data.valueOffsets as Int32Array | BigInt64Array
  return (row) => (isNull(data, row) ? null : buf.toString('utf8', Number(offs[row]), Number(offs[row + 1])))
}
