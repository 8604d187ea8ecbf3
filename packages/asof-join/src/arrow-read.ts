/**
 * Low-level readers of Arrow `Data` chunks into plain typed arrays. 64-bit integers (Int64,
 * Timestamp, Date(ms)) are read through an Int32 view of their buffer: building a BigInt per value
 * costs an order of magnitude more than two 32-bit loads.
 */
import { type Data, DataType, DateUnit, TimeUnit } from 'apache-arrow'
import { ColumnTypeError, InvalidTimeError } from './errors.js'

const TWO32 = 4294967296

/** Multiplier from a column's stored unit to milliseconds, or throws naming the column. */
export function timeFactor(type: DataType, column: string): number {
  if (DataType.isTimestamp(type)) {
    switch (type.unit) {
      case TimeUnit.SECOND:
        return 1000
      case TimeUnit.MILLISECOND:
        return 1
      case TimeUnit.MICROSECOND:
        return 1e-3
      default:
        return 1e-6
    }
  }
  if (DataType.isDate(type)) return type.unit === DateUnit.DAY ? 86_400_000 : 1
  if (DataType.isInt(type) || DataType.isFloat(type)) return 1
  throw new ColumnTypeError(
    column,
    `column '${column}' has type ${String(type)}: a time column must be a Timestamp, Date, integer or float (ms since epoch)`,
  )
}

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
 * Read `n` numbers from row `start` of a numeric/time Data into `out[0..n)`, times `factor`.
 * When `nullsAre` is undefined a null throws `InvalidTimeError` (row = `rowBase + start + i`).
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
): void {
  const o = data.offset + start
  if (is64(data)) {
    const v = int64View(data.values as BigInt64Array)
    for (let i = 0; i < n; i++) {
      const k = (o + i) << 1
      out[i] = ((v[k + 1] as number) * TWO32 + ((v[k] as number) >>> 0)) * factor
    }
  } else {
    const v = data.values as Float64Array
    if (factor === 1) for (let i = 0; i < n; i++) out[i] = v[o + i] as number
    else for (let i = 0; i < n; i++) out[i] = (v[o + i] as number) * factor
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
}
