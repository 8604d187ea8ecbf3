/**
 * Maps string cells of Arrow columns (Utf8 or Dictionary<Utf8>) to dense codes of a known key set
 * without decoding them: an open-addressing table over the keys' UTF-8 bytes (FNV-1a), so a 10M-row
 * Utf8 entity column costs one hash of a few bytes per row, not a `TextDecoder` call and a `Map`
 * lookup. Dictionary columns are mapped once per dictionary.
 */
import { type Data, DataType } from 'apache-arrow'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** FNV-1a over bytes[start, end). Also the entity-partition hash (see `entityPartition`). */
export function fnv1a(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5
  for (let i = start; i < end; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193)
  return h >>> 0
}

export class StringMatcher {
  private readonly pool: Uint8Array
  private readonly offsets: Int32Array
  private readonly table: Int32Array
  private readonly mask: number
  private readonly byString = new Map<string, number>()
  private readonly dictCache = new WeakMap<object, Int32Array>()

  /** `keys[code]` is the key of code `code`; keys must be distinct. */
  constructor(keys: readonly string[]) {
    const encoded = keys.map((k) => encoder.encode(k))
    let total = 0
    for (const e of encoded) total += e.length
    this.pool = new Uint8Array(total)
    this.offsets = new Int32Array(keys.length + 1)
    let size = 16
    while (size < keys.length * 2) size <<= 1
    this.table = new Int32Array(size).fill(-1)
    this.mask = size - 1
    let pos = 0
    for (let c = 0; c < keys.length; c++) {
      const e = encoded[c] as Uint8Array
      this.pool.set(e, pos)
      this.offsets[c] = pos
      pos += e.length
      this.offsets[c + 1] = pos
      this.byString.set(keys[c] as string, c)
      let slot = fnv1a(e, 0, e.length) & this.mask
      while ((this.table[slot] as number) >= 0) slot = (slot + 1) & this.mask
      this.table[slot] = c
    }
  }

  /** Code of a JS string, or -1. */
  code(key: string): number {
    return this.byString.get(key) ?? -1
  }

  /** Code of the UTF-8 bytes[start, end), or -1. */
  codeOfBytes(bytes: Uint8Array, start: number, end: number): number {
    const len = end - start
    const pool = this.pool
    const offsets = this.offsets
    let slot = fnv1a(bytes, start, end) & this.mask
    for (;;) {
      const c = this.table[slot] as number
      if (c < 0) return -1
      const o = offsets[c] as number
      if ((offsets[c + 1] as number) - o === len) {
        let i = 0
        while (i < len && pool[o + i] === bytes[start + i]) i++
        if (i === len) return c
      }
      slot = (slot + 1) & this.mask
    }
  }

  /**
   * Codes of rows [start, start+n) of a Utf8 or Dictionary<Utf8> Data into `out` (-1 for unknown
   * keys and nulls). Returns false when the Data is not a string column.
   */
  codes(data: Data, start: number, n: number, out: Int32Array): boolean {
    const type = data.type
    const o = data.offset + start
    if (DataType.isDictionary(type)) {
      const dict = data.dictionary
      if (!dict || !DataType.isUtf8(dict.type)) return false
      let map = this.dictCache.get(dict)
      if (!map) {
        map = new Int32Array(dict.length)
        for (let i = 0; i < dict.length; i++) {
          const s = dict.get(i) as string | null
          map[i] = s === null ? -1 : this.code(s)
        }
        this.dictCache.set(dict, map)
      }
      const idx = data.values as Int32Array
      for (let i = 0; i < n; i++) out[i] = map[idx[o + i] as number] as number
    } else if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) {
      const bytes = data.values as Uint8Array
      const offs = data.valueOffsets as Int32Array
      if (offs instanceof BigInt64Array) {
        for (let i = 0; i < n; i++) {
          out[i] = this.codeOfBytes(bytes, Number(offs[o + i]), Number(offs[o + i + 1]))
        }
      } else {
        for (let i = 0; i < n; i++)
          out[i] = this.codeOfBytes(bytes, offs[o + i] as number, offs[o + i + 1] as number)
      }
    } else {
      return false
    }
    if (data.nullCount > 0) {
      const bm = data.nullBitmap as Uint8Array
      for (let i = 0; i < n; i++) {
        const k = o + i
        if (((bm[k >> 3] as number) & (1 << (k & 7))) === 0) out[i] = -1
      }
    }
    return true
  }
}

/** Decode UTF-8 bytes (used for string values on the rare improvement path). */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  return decoder.decode(bytes.subarray(start, end))
}
