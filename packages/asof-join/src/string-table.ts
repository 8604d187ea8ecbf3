/**
 * Interns strings by their UTF-8 bytes into dense codes, and maps string cells of Arrow columns
 * (Utf8, LargeUtf8, Dictionary<Utf8>) to those codes without decoding them. An open-addressing
 * table whose 32-byte slot holds the hash, the code, the length and the first 12 bytes of the key,
 * so a lookup of a short key (most ids) touches one cache line; longer keys are compared against
 * a byte pool. Measured on 10M Utf8 entity cells against 100k keys: about 3x faster than a hash
 * over bytes with the keys in a separate pool, and 10x faster than `TextDecoder` + `Map`.
 */
import { type Data, DataType } from 'apache-arrow'

const encoder = new TextEncoder()
const ENTRY = 8 // int32s per slot: hash, code + 1, length, 3 words of key bytes, pool offset, unused
const P = 0x01000193

/** FNV-1a over bytes[start, end). Also the entity-partition hash (see `entityPartition`). */
export function fnv1a(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5
  for (let i = start; i < end; i++) h = Math.imul(h ^ (bytes[i] as number), P)
  return h >>> 0
}

export class StringTable {
  private slots: Int32Array
  private mask: number
  private pool = new Uint8Array(1024)
  private poolLen = 0
  private codeHash = new Int32Array(64)
  /** Per code: where its bytes start in the pool, and how many there are. */
  private codeOff = new Int32Array(64)
  private codeLen = new Int32Array(64)
  private scratch = new Uint8Array(256)
  private dictCache = new WeakMap<object, Int32Array>()
  /** Number of distinct keys; codes are 0..size-1 in order of first `intern`. */
  size = 0

  constructor(expected = 16) {
    let cap = 16
    while (cap < expected * 2) cap <<= 1
    this.slots = new Int32Array(cap * ENTRY)
    this.mask = cap - 1
  }

  /** Build a table of `keys` (code = index). Keys must be distinct. */
  static of(keys: readonly string[]): StringTable {
    const t = new StringTable(keys.length)
    for (const k of keys) t.internString(k)
    return t
  }

  /** Unsigned FNV-1a hash of the key of `code`. */
  hash(code: number): number {
    return (this.codeHash[code] as number) >>> 0
  }

  /**
   * Code of bytes[start, end); when absent: -1, or a new code when `add`. One function with locals
   * only: hash, key words and probe stay in registers (fields would box the int32 hash).
   */
  lookup(bytes: Uint8Array, start: number, end: number, add: boolean): number {
    const len = end - start
    let w0 = 0
    let w1 = 0
    let w2 = 0
    if (len >= 12) {
      const s = start
      w0 =
        (bytes[s] as number) |
        ((bytes[s + 1] as number) << 8) |
        ((bytes[s + 2] as number) << 16) |
        ((bytes[s + 3] as number) << 24)
      w1 =
        (bytes[s + 4] as number) |
        ((bytes[s + 5] as number) << 8) |
        ((bytes[s + 6] as number) << 16) |
        ((bytes[s + 7] as number) << 24)
      w2 =
        (bytes[s + 8] as number) |
        ((bytes[s + 9] as number) << 8) |
        ((bytes[s + 10] as number) << 16) |
        ((bytes[s + 11] as number) << 24)
    } else {
      for (let i = 0; i < len; i++) {
        const b = bytes[start + i] as number
        if (i < 4) w0 |= b << (i << 3)
        else if (i < 8) w1 |= b << ((i - 4) << 3)
        else w2 |= b << ((i - 8) << 3)
      }
    }
    // Table hash: mix the three key words (3 multiplies instead of one per byte), then the bytes past 12.
    let h = Math.imul(w0 ^ Math.imul(len, 0x9e3779b1), 0x85ebca6b)
    h = Math.imul(h ^ (h >>> 15) ^ w1, 0xc2b2ae35)
    h = Math.imul(h ^ (h >>> 13) ^ w2, 0x27d4eb2f)
    for (let i = 12; i < len; i++) h = Math.imul(h ^ (bytes[start + i] as number), P)
    h ^= h >>> 16
    const slots = this.slots
    const mask = this.mask
    let k = h & mask
    for (;;) {
      const o = k * ENTRY
      const c1 = slots[o + 1] as number
      if (c1 === 0) break
      if (
        slots[o] === h &&
        slots[o + 2] === len &&
        slots[o + 3] === w0 &&
        slots[o + 4] === w1 &&
        slots[o + 5] === w2
      ) {
        if (len <= 12) return c1 - 1
        const p = slots[o + 6] as number
        const pool = this.pool
        let j = 12
        while (j < len && pool[p + j] === bytes[start + j]) j++
        if (j === len) return c1 - 1
      }
      k = (k + 1) & mask
    }
    return add ? this.insert(bytes, start, end, h, w0, w1, w2) : -1
  }

  private insert(
    bytes: Uint8Array,
    start: number,
    end: number,
    h: number,
    w0: number,
    w1: number,
    w2: number,
  ): number {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow()
    let k = h & this.mask
    while (this.slots[k * ENTRY + 1] !== 0) k = (k + 1) & this.mask
    const len = end - start
    const code = this.size++
    if (this.poolLen + len > this.pool.length) {
      const p = new Uint8Array(Math.max(this.pool.length * 2, this.poolLen + len))
      p.set(this.pool.subarray(0, this.poolLen))
      this.pool = p
    }
    this.pool.set(bytes.subarray(start, end), this.poolLen)
    if (code >= this.codeHash.length) {
      const grow = (a: Int32Array) => {
        const c = new Int32Array(a.length * 2)
        c.set(a)
        return c
      }
      this.codeHash = grow(this.codeHash)
      this.codeOff = grow(this.codeOff)
      this.codeLen = grow(this.codeLen)
    }
    this.codeHash[code] = fnv1a(bytes, start, end) | 0
    this.codeOff[code] = this.poolLen
    this.codeLen[code] = len
    const o = k * ENTRY
    const s = this.slots
    s[o] = h
    s[o + 1] = code + 1
    s[o + 2] = len
    s[o + 3] = w0
    s[o + 4] = w1
    s[o + 5] = w2
    s[o + 6] = this.poolLen
    this.poolLen += len
    return code
  }

  /** Number of UTF-8 bytes of the key of `code`. */
  byteLength(code: number): number {
    return this.codeLen[code] as number
  }

  /** Copy the UTF-8 bytes of the key of `code` into `dst` at `at`. */
  copyBytes(code: number, dst: Uint8Array, at: number): void {
    const o = this.codeOff[code] as number
    const n = this.codeLen[code] as number
    const pool = this.pool
    // A loop for the usual short values: a subarray + set per string costs ~100 ns.
    if (n <= 32) for (let i = 0; i < n; i++) dst[at + i] = pool[o + i] as number
    else dst.set(pool.subarray(o, o + n), at)
  }

  /** Code of bytes[start, end), or -1. */
  find(bytes: Uint8Array, start: number, end: number): number {
    return this.lookup(bytes, start, end, false)
  }

  /** Code of bytes[start, end), added when new. */
  intern(bytes: Uint8Array, start: number, end: number): number {
    return this.lookup(bytes, start, end, true)
  }

  /**
   * Keep only the codes with `keep[code] === 1`, renumbered densely in their old order, and forget
   * every dictionary mapping. Returns old code → new code (-1: dropped).
   */
  compact(keep: Uint8Array): Int32Array {
    const n = this.size
    const pool = this.pool
    const off = this.codeOff
    const len = this.codeLen
    let kept = 0
    let bytes = 0
    for (let c = 0; c < n; c++) {
      if (keep[c] !== 1) continue
      kept++
      bytes += len[c] as number
    }
    let cap = 16
    while (cap < kept * 2) cap <<= 1
    this.slots = new Int32Array(cap * ENTRY)
    this.mask = cap - 1
    this.pool = new Uint8Array(Math.max(1024, bytes))
    this.poolLen = 0
    const codes = Math.max(64, kept)
    this.codeHash = new Int32Array(codes)
    this.codeOff = new Int32Array(codes)
    this.codeLen = new Int32Array(codes)
    this.size = 0
    this.dictCache = new WeakMap()
    const remap = new Int32Array(n).fill(-1)
    for (let c = 0; c < n; c++) {
      if (keep[c] === 1)
        remap[c] = this.intern(pool, off[c] as number, (off[c] as number) + (len[c] as number))
    }
    return remap
  }

  private grow(): void {
    const old = this.slots
    const cap = (this.mask + 1) * 2
    this.slots = new Int32Array(cap * ENTRY)
    this.mask = cap - 1
    for (let o = 0; o < old.length; o += ENTRY) {
      if (old[o + 1] === 0) continue
      let k = (old[o] as number) & this.mask
      while (this.slots[k * ENTRY + 1] !== 0) k = (k + 1) & this.mask
      this.slots.set(old.subarray(o, o + ENTRY), k * ENTRY)
    }
  }

  private encode(s: string): number {
    if (s.length * 3 > this.scratch.length) this.scratch = new Uint8Array(s.length * 3)
    return encoder.encodeInto(s, this.scratch).written
  }

  /** Code of a JS string, or -1. */
  findString(s: string): number {
    return this.find(this.scratch, 0, this.encode(s))
  }

  /** Code of a JS string, added when new. */
  internString(s: string): number {
    const n = this.encode(s)
    return this.intern(this.scratch, 0, n)
  }

  /** Per dictionary entry: its code (-1 unknown or null), `intern`ing new ones when `add`. */
  dictionaryCodes(dict: Data, add: boolean): Int32Array {
    // Codes never change once given, so a dictionary (shared by every batch that uses it) is
    // mapped once, whether its entries are looked up or added.
    const cached = this.dictCache.get(dict)
    if (cached) return cached
    const map = new Int32Array(dict.length)
    const bytes = dict.values as Uint8Array
    const offs = dict.valueOffsets as Int32Array
    for (let i = 0; i < dict.length; i++) {
      // Offsets are sliced with the Data (read at i); validity is read at offset + i.
      const k = dict.offset + i
      const a = Number(offs[i])
      const b = Number(offs[i + 1])
      const valid =
        dict.nullCount === 0 || ((dict.nullBitmap as Uint8Array)[k >> 3] as number) & (1 << (k & 7))
      map[i] = !valid ? -1 : add ? this.intern(bytes, a, b) : this.find(bytes, a, b)
    }
    this.dictCache.set(dict, map)
    return map
  }

  /**
   * Codes of rows [start, start+n) of a Utf8 / LargeUtf8 / Dictionary<Utf8> Data into `out` (-1 for
   * nulls and, unless `add`, unknown keys). Returns false when the Data is not a string column.
   */
  codes(data: Data, start: number, n: number, out: Int32Array, add = false): boolean {
    const type = data.type
    // Arrow slices indices and offsets with the Data: read them at start + i, validity at offset + start + i.
    const o = start
    if (DataType.isDictionary(type)) {
      const dictVec = data.dictionary
      if (!dictVec || !(DataType.isUtf8(dictVec.type) || DataType.isLargeUtf8(dictVec.type))) return false
      const raw = data.values as Int32Array | BigInt64Array
      const wide = raw instanceof BigInt64Array || raw instanceof BigUint64Array
      let base = 0
      const parts = dictVec.data.map((d) => {
        const p = { base, map: this.dictionaryCodes(d as Data, add) }
        base += d.length
        return p
      })
      if (parts.length === 1 && !wide) {
        const map = (parts[0] as { map: Int32Array }).map
        const idx = raw as Int32Array
        for (let i = 0; i < n; i++) out[i] = map[idx[o + i] as number] as number
      } else {
        for (let i = 0; i < n; i++) {
          const d = Number(raw[o + i])
          let p = parts.length - 1
          while ((parts[p] as { base: number }).base > d) p--
          const part = parts[p] as { base: number; map: Int32Array }
          out[i] = part.map[d - part.base] as number
        }
      }
    } else if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) {
      const bytes = data.values as Uint8Array
      const offs = data.valueOffsets as Int32Array | BigInt64Array
      if (offs instanceof BigInt64Array) {
        for (let i = 0; i < n; i++) {
          const a = Number(offs[o + i])
          const b = Number(offs[o + i + 1])
          out[i] = add ? this.intern(bytes, a, b) : this.find(bytes, a, b)
        }
      } else {
        for (let i = 0; i < n; i++)
          out[i] = this.lookup(bytes, offs[o + i] as number, offs[o + i + 1] as number, add)
      }
    } else {
      return false
    }
    if (data.nullCount > 0) {
      const bm = data.nullBitmap as Uint8Array
      for (let i = 0; i < n; i++) {
        const k = data.offset + o + i
        if (((bm[k >> 3] as number) & (1 << (k & 7))) === 0) out[i] = -1
      }
    }
    return true
  }
}
