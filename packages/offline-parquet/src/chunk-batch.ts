import { setInt64 } from '@skewless/core/internal'
import { ENTITY_TYPE, LOG_SCHEMA_FIELDS, OUTCOME_TYPE, utf8Data } from '@skewless/offline-log/adapter'
import {
  Bool,
  type Data,
  Float64,
  Int64,
  makeData,
  makeVector,
  RecordBatch,
  Schema,
  Struct,
  TimestampMillisecond,
  Utf8,
} from 'apache-arrow'
import type { Scratch } from './commit-buffers.js'
import { type CommitColumns, NULL_VALUE, STALE } from './commit-columns.js'
import type { PartitionChunk } from './partition-chunks.js'

const OUTCOME_DICT = makeVector(utf8Data(['applied', 'stale']))
/** Files store every log column except `feature`, which the `feature=` directory carries. */
const FILE_FIELDS = LOG_SCHEMA_FIELDS.filter((f) => f.name !== 'feature')

/** The commit's columns in sorted order (positions as in `order`), ready to be cut into files. */
export interface SortedColumns {
  ev: BigInt64Array
  av: BigInt64Array
  ver: BigInt64Array
  /** 8 bytes per row: a double, or an int64 (as words), or 0/1 for bool — one type per file. */
  val: Float64Array
  valid: Uint8Array
  outcome: Int32Array
  tile: BigInt64Array | undefined
  tileValid: Uint8Array | undefined
}

/**
 * Move every row of the commit to its sorted position in one pass that reads the row-major commit
 * arrays sequentially and writes at random positions. Gathering in sorted order (random reads) was
 * memory-latency bound at ~230 ns per row here; scattered writes do not stall the loop.
 */
export function scatterCommit(c: CommitColumns, order: Int32Array, sc: Scratch): SortedColumns {
  const n = c.n
  const pos = sc.get('s.pos', Int32Array, n)
  for (let k = 0; k < n; k++) pos[order[k] as number] = k
  const ev = sc.get('s.ev', BigInt64Array, n)
  const av = sc.get('s.av', BigInt64Array, n)
  const ver = sc.get('s.ver', BigInt64Array, n)
  const val = sc.get('s.val', Float64Array, n)
  const valid = sc.get('s.valid', Uint8Array, n)
  const outcome = sc.get('s.outcome', Int32Array, n)
  const evw = new Int32Array(ev.buffer, 0, 2 * n)
  const avw = new Int32Array(av.buffer, 0, 2 * n)
  const verw = new Int32Array(ver.buffer, 0, 2 * n)
  const valw = new Int32Array(val.buffer, 0, 2 * n)
  const { row, meta, group, groups } = c
  let lastGroup = -1
  let isInt = false
  for (let i = 0; i < n; i++) {
    const k = pos[i] as number
    const o = 4 * i
    setInt64(evw, k, row[o] as number)
    setInt64(avw, k, row[o + 1] as number)
    setInt64(verw, k, row[o + 2] as number)
    const flags = meta[2 * i + 1] as number
    outcome[k] = flags & STALE
    const g = group[i] as number
    if (g !== lastGroup) {
      lastGroup = g
      isInt = (groups[g] as CommitColumns['groups'][number]).type === 'int64'
    }
    if ((flags & NULL_VALUE) !== 0) {
      valid[k] = 0
      val[k] = 0
    } else {
      valid[k] = 1
      if (isInt) setInt64(valw, k, row[o + 3] as number)
      else val[k] = row[o + 3] as number
    }
  }
  let tile: BigInt64Array | undefined
  let tileValid: Uint8Array | undefined
  if (c.hasTiles) {
    tile = sc.get('s.tile', BigInt64Array, n)
    tileValid = sc.get('s.tileValid', Uint8Array, n)
    const tw = new Int32Array(tile.buffer, 0, 2 * n)
    for (let i = 0; i < n; i++) {
      const k = pos[i] as number
      const t = c.tileStart[i] as number
      if (Number.isNaN(t)) {
        tileValid[k] = 0
        setInt64(tw, k, 0)
      } else {
        tileValid[k] = 1
        setInt64(tw, k, t)
      }
    }
  }
  return { ev, av, ver, val, valid, outcome, tile, tileValid }
}

/** Pack 0/1 bytes [from, from + n) into a bitmap; returns the bitmap and the count of zeros. */
function packBits(bytes: Uint8Array, from: number, n: number, out: Uint8Array): number {
  out.fill(0)
  let zeros = 0
  for (let k = 0; k < n; k++) {
    if (bytes[from + k] === 1) out[k >> 3] = (out[k >> 3] as number) | (1 << (k & 7))
    else zeros++
  }
  return zeros
}

/** An all-null column: zero-filled scratch buffers (bitmap and values in separate buffers). */
function allNull(type: Float64 | Int64 | Bool | TimestampMillisecond, n: number, s: Scratch): Data {
  // Bitmap and values must not be views of one buffer: Arrow's IPC writer then miscounts the body.
  const zeros = s.get('c.zeros', Uint8Array, Math.max(n * 8, (n + 1) * 4), true)
  const bitmap = s.get('c.nullbits', Uint8Array, (n + 7) >> 3, true)
  const data =
    type instanceof Float64
      ? new Float64Array(zeros.buffer, 0, n)
      : type instanceof Bool
        ? bitmap
        : new BigInt64Array(zeros.buffer, 0, n)
  return makeData({ type, length: n, nullCount: n, nullBitmap: bitmap, data } as never)
}

/** An all-null Utf8 column (zero offsets, no bytes). */
function allNullUtf8(n: number, s: Scratch): Data {
  const zeros = s.get('c.zeros', Uint8Array, Math.max(n * 8, (n + 1) * 4), true)
  const valueOffsets = new Int32Array(zeros.buffer, 0, n + 1)
  const nullBitmap = s.get('c.nullbits', Uint8Array, (n + 7) >> 3, true)
  return makeData({
    type: new Utf8(),
    length: n,
    nullCount: n,
    nullBitmap,
    valueOffsets,
    data: zeros.subarray(0, 0),
  })
}

/**
 * The Arrow batch of one file (log layout without `feature`): views of the sorted commit columns
 * over the chunk's range, plus its entity dictionary and packed validity bitmaps.
 */
export function chunkBatch(
  c: CommitColumns,
  s: SortedColumns,
  chunk: PartitionChunk,
  type: string,
  sc: Scratch,
): RecordBatch {
  const n = chunk.order.length
  const a = chunk.start
  const b = a + n
  const names = chunk.entities.map((e) => c.entityNames[e] as string)
  let dbl = allNull(new Float64(), n, sc)
  let i64 = allNull(new Int64(), n, sc)
  let bool = allNull(new Bool(), n, sc)
  let strs: Data
  if (type === 'string') {
    const out: (string | null)[] = new Array(n)
    const src = c.str
    for (let k = 0; k < n; k++) out[k] = src ? (src[chunk.order[k] as number] ?? null) : null
    strs = utf8Data(out, n)
  } else {
    strs = allNullUtf8(n, sc)
    const bitmap = sc.get('c.valid', Uint8Array, (n + 7) >> 3)
    const nullCount = packBits(s.valid, a, n, bitmap)
    const v = { nullBitmap: bitmap, nullCount }
    if (type === 'double')
      dbl = makeData({ type: new Float64(), length: n, ...v, data: s.val.subarray(a, b) })
    else if (type === 'int64') {
      const data = new BigInt64Array(s.val.buffer, s.val.byteOffset + a * 8, n)
      i64 = makeData({ type: new Int64(), length: n, ...v, data })
    } else {
      const bits = sc.get('c.bits', Uint8Array, (n + 7) >> 3, true)
      for (let k = 0; k < n; k++)
        if (s.val[a + k] === 1) bits[k >> 3] = (bits[k >> 3] as number) | (1 << (k & 7))
      bool = makeData({ type: new Bool(), length: n, ...v, data: bits })
    }
  }
  let tile = allNull(new TimestampMillisecond(), n, sc)
  if (s.tile && s.tileValid) {
    const bitmap = sc.get('c.tileValid', Uint8Array, (n + 7) >> 3)
    const nullCount = packBits(s.tileValid, a, n, bitmap)
    tile = makeData({
      type: new TimestampMillisecond(),
      length: n,
      nullCount,
      nullBitmap: bitmap,
      data: s.tile.subarray(a, b),
    })
  }
  const ts = new TimestampMillisecond()
  const children: Data[] = [
    makeData({ type: ENTITY_TYPE, length: n, data: chunk.codes, dictionary: makeVector(utf8Data(names)) }),
    dbl,
    i64,
    strs,
    bool,
    makeData({ type: ts, length: n, data: s.ev.subarray(a, b) }),
    makeData({ type: ts, length: n, data: s.av.subarray(a, b) }),
    makeData({ type: new Int64(), length: n, data: s.ver.subarray(a, b) }),
    makeData({ type: OUTCOME_TYPE, length: n, data: s.outcome.subarray(a, b), dictionary: OUTCOME_DICT }),
    tile,
  ]
  const fields = FILE_FIELDS as Schema['fields']
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: n, children }))
}
