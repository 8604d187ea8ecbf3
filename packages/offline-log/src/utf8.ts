import { type Data, makeData, Utf8 } from 'apache-arrow'

/**
 * Build a Utf8 `Data` from JS strings. `vectorFromArray(strings, new Utf8())` costs ~1.2 s per 1M
 * strings; joining them and encoding once in native code is ~20x faster. When the encoded length
 * equals the character length every string is ASCII and the offsets are the string lengths.
 * `null`/`undefined` entries become nulls.
 */
export function utf8Data(strings: readonly (string | null | undefined)[], n = strings.length): Data<Utf8> {
  const offsets = new Int32Array(n + 1)
  let nullBitmap: Uint8Array | undefined
  let nullCount = 0
  let chars = 0
  const parts: string[] = new Array(n)
  for (let i = 0; i < n; i++) {
    const s = strings[i]
    if (typeof s === 'string') {
      parts[i] = s
      chars += s.length
    } else {
      parts[i] = ''
      if (nullBitmap === undefined) nullBitmap = new Uint8Array((n + 7) >> 3).fill(255)
      nullBitmap[i >> 3] = (nullBitmap[i >> 3] as number) & ~(1 << (i & 7))
      nullCount++
    }
  }
  const joined = parts.join('')
  const bytes = Buffer.from(joined, 'utf8')
  if (bytes.length === chars) {
    let o = 0
    for (let i = 0; i < n; i++) {
      o += (parts[i] as string).length
      offsets[i + 1] = o
    }
  } else {
    let o = 0
    for (let i = 0; i < n; i++) {
      o += Buffer.byteLength(parts[i] as string, 'utf8')
      offsets[i + 1] = o
    }
  }
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)
  return makeData({ type: new Utf8(), length: n, nullCount, nullBitmap, valueOffsets: offsets, data })
}

/** Decode every value of a Utf8 `Data` (nulls → null). */
export function decodeUtf8(data: Data<Utf8>): (string | null)[] {
  const n = data.length
  const out: (string | null)[] = new Array(n)
  const offsets = data.valueOffsets
  const bytes = data.values
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const hasNulls = data.nullCount > 0
  for (let i = 0; i < n; i++) {
    if (hasNulls && !data.getValid(i)) {
      out[i] = null
      continue
    }
    out[i] = buf.toString('utf8', offsets[i] as number, offsets[i + 1] as number)
  }
  return out
}
