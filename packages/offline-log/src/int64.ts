/**
 * Int64 / Timestamp(ms) columns are `BigInt64Array`s in Arrow JS. Creating a BigInt per value costs
 * ~50 ns, so these helpers move safe-integer numbers in and out through an Int32 view of the same
 * memory (little-endian low word first), which is a plain loop with no allocation per value.
 */

const TWO_32 = 4294967296

/** Write numbers (safe integers) into a new `BigInt64Array` of the same length. */
export function toInt64Array(values: ArrayLike<number>, n = values.length): BigInt64Array {
  const out = new BigInt64Array(n)
  const w = new Int32Array(out.buffer, out.byteOffset, n * 2)
  for (let i = 0; i < n; i++) {
    const x = values[i] as number
    const hi = Math.floor(x / TWO_32)
    w[2 * i] = (x - hi * TWO_32) | 0
    w[2 * i + 1] = hi
  }
  return out
}

/** Set element `i` of an Int32 view over a BigInt64Array to the safe integer `x`. */
export function setInt64(w: Int32Array, i: number, x: number): void {
  const hi = Math.floor(x / TWO_32)
  w[2 * i] = (x - hi * TWO_32) | 0
  w[2 * i + 1] = hi
}

/** An Int32 view over a BigInt64Array (two words per value). */
export function int32View(a: BigInt64Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length * 2)
}

/** Read a `BigInt64Array` (e.g. Timestamp(ms) values) into plain numbers. */
export function fromInt64Array(values: BigInt64Array, out = new Float64Array(values.length)): Float64Array {
  const n = values.length
  const w = new Int32Array(values.buffer, values.byteOffset, n * 2)
  for (let i = 0; i < n; i++) out[i] = (w[2 * i + 1] as number) * TWO_32 + ((w[2 * i] as number) >>> 0)
  return out
}

/** Read element `i` of an Int32 view over a BigInt64Array as a number. */
export function getInt64(w: Int32Array, i: number): number {
  return (w[2 * i + 1] as number) * TWO_32 + ((w[2 * i] as number) >>> 0)
}
