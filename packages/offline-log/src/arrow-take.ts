import { type Data, DataType, makeData, RecordBatch, Struct } from 'apache-arrow'

function takeValidity(
  data: Data,
  idx: ArrayLike<number>,
  n: number,
): { nullBitmap?: Uint8Array; nullCount: number } {
  if (data.nullCount === 0) return { nullCount: 0 }
  const bitmap = new Uint8Array((n + 7) >> 3)
  // An all-null column (most value columns of a one-feature batch) stays all-null: no per-row work.
  if (data.nullCount === data.length) return { nullBitmap: bitmap, nullCount: n }
  const src = data.nullBitmap as Uint8Array
  const off = data.offset
  let nulls = 0
  for (let k = 0; k < n; k++) {
    const i = (idx[k] as number) + off
    if (((src[i >> 3] as number) & (1 << (i & 7))) !== 0)
      bitmap[k >> 3] = (bitmap[k >> 3] as number) | (1 << (k & 7))
    else nulls++
  }
  return { nullBitmap: bitmap, nullCount: nulls }
}

/** Take rows `idx` of one column (the types of the log layout: dictionary, utf8, bool, fixed width). */
export function takeData(data: Data, idx: ArrayLike<number>): Data {
  const n = idx.length
  const validity = takeValidity(data, idx, n)
  const type = data.type
  if (DataType.isUtf8(type) && data.nullCount === data.length) {
    return makeData({
      type,
      length: n,
      ...validity,
      valueOffsets: new Int32Array(n + 1),
      data: new Uint8Array(0),
    })
  }
  if (DataType.isUtf8(type)) {
    const inOff = data.valueOffsets as Int32Array
    const inBytes = data.values as Uint8Array
    const offsets = new Int32Array(n + 1)
    let total = 0
    for (let k = 0; k < n; k++) {
      const i = idx[k] as number
      total += (inOff[i + 1] as number) - (inOff[i] as number)
      offsets[k + 1] = total
    }
    const bytes = new Uint8Array(total)
    for (let k = 0; k < n; k++) {
      const i = idx[k] as number
      bytes.set(inBytes.subarray(inOff[i] as number, inOff[i + 1] as number), offsets[k] as number)
    }
    return makeData({ type, length: n, ...validity, valueOffsets: offsets, data: bytes })
  }
  if (DataType.isBool(type)) {
    const bits = new Uint8Array((n + 7) >> 3)
    const src = data.values as Uint8Array
    for (let k = 0; k < n; k++) {
      const i = (idx[k] as number) + data.offset
      if (((src[i >> 3] as number) & (1 << (i & 7))) !== 0)
        bits[k >> 3] = (bits[k >> 3] as number) | (1 << (k & 7))
    }
    return makeData({ type, length: n, ...validity, data: bits })
  }
  const src = data.values as ArrayLike<unknown> & { constructor: new (n: number) => unknown }
  if (DataType.isDictionary(type)) {
    const codes = data.values as Int32Array
    const out = new (codes.constructor as Int32ArrayConstructor)(n)
    for (let k = 0; k < n; k++) out[k] = codes[idx[k] as number] as number
    return makeData({ type, length: n, ...validity, data: out, dictionary: data.dictionary })
  }
  // Fixed width (Float64, Int64, Timestamp): copy through a 32-bit view, two words per value when 8 bytes wide.
  const typed = src as unknown as BigInt64Array | Float64Array | Int32Array
  const out = new (typed.constructor as Float64ArrayConstructor)(n) as unknown as typeof typed
  const words = typed.BYTES_PER_ELEMENT / 4
  const inW = new Int32Array(typed.buffer, typed.byteOffset, typed.length * words)
  const outW = new Int32Array(out.buffer, out.byteOffset, n * words)
  if (words === 2) {
    for (let k = 0; k < n; k++) {
      const i = idx[k] as number
      outW[2 * k] = inW[2 * i] as number
      outW[2 * k + 1] = inW[2 * i + 1] as number
    }
  } else {
    for (let k = 0; k < n; k++) outW[k] = inW[idx[k] as number] as number
  }
  return makeData({ type, length: n, ...validity, data: out } as never)
}

/** A new batch with rows `idx` (in that order) of `batch`. */
export function takeRows(batch: RecordBatch, idx: ArrayLike<number>): RecordBatch {
  const children = batch.data.children.map((c) => takeData(c as Data, idx))
  const type = new Struct(batch.schema.fields)
  return new RecordBatch(batch.schema, makeData({ type, length: idx.length, children }))
}
