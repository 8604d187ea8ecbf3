/**
 * 64-bit integers as two 32-bit halves. Int64 and Timestamp columns are `BigInt64Array`s in Arrow
 * JS, and creating a BigInt per value costs ~50 ns, so the offline log, its Parquet adapter and the
 * join move safe-integer numbers in and out through an Int32 view of the same memory (little-endian:
 * low word first), a plain loop with no allocation per value. Internal: exported under
 * `internal` from the package's entry, for Skewless's own packages.
 */

/** 2^32: the weight of the high word. */
export const TWO_32 = 4294967296

/** An Int32 view over a BigInt64Array (two words per value: low, high). */
export function int32View(a: BigInt64Array | BigUint64Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length * 2)
}

/** Read value `i` of an Int32 view over 64-bit integers as a number (exact when it is a safe integer). */
export function getInt64(w: Int32Array, i: number): number {
  return (w[2 * i + 1] as number) * TWO_32 + ((w[2 * i] as number) >>> 0)
}

/** Set value `i` of an Int32 view over 64-bit integers to the safe integer `x`. */
export function setInt64(w: Int32Array, i: number, x: number): void {
  const hi = Math.floor(x / TWO_32)
  w[2 * i] = (x - hi * TWO_32) | 0
  w[2 * i + 1] = hi
}

/** Write numbers (safe integers) into a new `BigInt64Array` of the same length. */
export function toInt64Array(values: ArrayLike<number>, n = values.length): BigInt64Array {
  const out = new BigInt64Array(n)
  const w = int32View(out)
  for (let i = 0; i < n; i++) setInt64(w, i, values[i] as number)
  return out
}

/** Read a `BigInt64Array` (e.g. Timestamp(ms) values) into plain numbers. */
export function fromInt64Array(values: BigInt64Array, out = new Float64Array(values.length)): Float64Array {
  const n = values.length
  const w = int32View(values)
  for (let i = 0; i < n; i++) out[i] = getInt64(w, i)
  return out
}

/**
 * Value `i` of an Int32 view divided by `d` (1 < d, d·2^32 < 2^53, e.g. 1000 or 1e6 to turn µs or
 * ns into ms), in exact integer arithmetic: the quotient rounded down, plus `0.5` when `subMs` is
 * `'half'` and there is a remainder, or plus 1 when it is `'ceil'`. With v = hi·2^32 + lo =
 * (a·d + b)·2^32 + lo and 0 <= b < d, v / d = a·2^32 + (b·2^32 + lo) / d, where every step is an
 * exact double.
 */
export function divInt64(w: Int32Array, i: number, d: number, subMs: 'half' | 'ceil'): number {
  const hi = w[2 * i + 1] as number
  const a = Math.floor(hi / d)
  const rest = (hi - a * d) * TWO_32 + ((w[2 * i] as number) >>> 0)
  const q = Math.floor(rest / d)
  const ms = a * TWO_32 + q
  return rest - q * d === 0 ? ms : subMs === 'half' ? ms + 0.5 : ms + 1
}
