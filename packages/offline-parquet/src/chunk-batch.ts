import { ENTITY_TYPE, LOG_SCHEMA_FIELDS, OUTCOME_TYPE, utf8Data } from '@skewless/offline-log'
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
import type { CommitColumns } from './commit-columns.js'
import type { Scratch } from './scratch.js'

const TWO_32 = 4294967296
const OUTCOME_DICT = makeVector(utf8Data(['applied', 'stale']))
/** Files store every log column except `feature`, which the `feature=` directory carries. */
const FILE_FIELDS = LOG_SCHEMA_FIELDS.filter((f) => f.name !== 'feature')

function gatherInt64(src: Float64Array, order: Int32Array, out: BigInt64Array): BigInt64Array {
  const n = order.length
  const w = new Int32Array(out.buffer, 0, n * 2)
  for (let k = 0; k < n; k++) {
    const x = src[order[k] as number] as number
    const hi = Math.floor(x / TWO_32)
    w[2 * k] = (x - hi * TWO_32) | 0
    w[2 * k + 1] = hi
  }
  return out
}

/** An all-null column: every buffer is a zero-filled scratch view shared by all such columns of a batch. */
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

function validity(
  c: CommitColumns,
  order: Int32Array,
  s: Scratch,
): { nullBitmap: Uint8Array; nullCount: number } {
  const n = order.length
  const bitmap = s.get('c.valid', Uint8Array, (n + 7) >> 3, true)
  let nulls = 0
  for (let k = 0; k < n; k++) {
    if (c.isNull[order[k] as number] === 1) nulls++
    else bitmap[k >> 3] = (bitmap[k >> 3] as number) | (1 << (k & 7))
  }
  return { nullBitmap: bitmap, nullCount: nulls }
}

/**
 * The Arrow batch of one file (log layout without `feature`) for rows `order` of a commit, of one
 * feature whose value type is `type`. `order` is sorted by entity, so the entity dictionary is built
 * in sorted order from the runs of equal entity ids.
 */
export function chunkBatch(c: CommitColumns, order: Int32Array, type: string, sc: Scratch): RecordBatch {
  const n = order.length
  const codes = sc.get('c.codes', Int32Array, n)
  const names: string[] = []
  let last = -1
  for (let k = 0; k < n; k++) {
    const e = c.entity[order[k] as number] as number
    if (e !== last) {
      names.push(c.entityNames[e] as string)
      last = e
    }
    codes[k] = names.length - 1
  }
  const outcome = sc.get('c.outcome', Int32Array, n)
  for (let k = 0; k < n; k++) outcome[k] = c.stale[order[k] as number] as number
  let dbl = allNull(new Float64(), n, sc)
  let i64 = allNull(new Int64(), n, sc)
  let bool = allNull(new Bool(), n, sc)
  let strs: Data
  if (type === 'string') {
    const s: (string | null)[] = new Array(n)
    const src = c.str
    for (let k = 0; k < n; k++) s[k] = src ? (src[order[k] as number] ?? null) : null
    strs = utf8Data(s, n)
  } else {
    strs = allNullUtf8(n, sc)
    const v = validity(c, order, sc)
    if (type === 'double') {
      const out = sc.get('c.dbl', Float64Array, n)
      for (let k = 0; k < n; k++) out[k] = c.num[order[k] as number] as number
      dbl = makeData({ type: new Float64(), length: n, ...v, data: out })
    } else if (type === 'int64') {
      i64 = makeData({
        type: new Int64(),
        length: n,
        ...v,
        data: gatherInt64(c.num, order, sc.get('c.i64', BigInt64Array, n)),
      })
    } else {
      const bits = sc.get('c.bits', Uint8Array, (n + 7) >> 3, true)
      for (let k = 0; k < n; k++)
        if (c.num[order[k] as number] === 1) bits[k >> 3] = (bits[k >> 3] as number) | (1 << (k & 7))
      bool = makeData({ type: new Bool(), length: n, ...v, data: bits })
    }
  }
  let tile = allNull(new TimestampMillisecond(), n, sc)
  if (c.hasTiles) {
    const bitmap = new Uint8Array((n + 7) >> 3)
    let nulls = 0
    const vals = new Float64Array(n)
    for (let k = 0; k < n; k++) {
      const t = c.tileStart[order[k] as number] as number
      if (Number.isNaN(t)) nulls++
      else {
        vals[k] = t
        bitmap[k >> 3] = (bitmap[k >> 3] as number) | (1 << (k & 7))
      }
    }
    const idx = new Int32Array(n)
    for (let k = 0; k < n; k++) idx[k] = k
    tile = makeData({
      type: new TimestampMillisecond(),
      length: n,
      nullCount: nulls,
      nullBitmap: bitmap,
      data: gatherInt64(vals, idx, sc.get('c.tile', BigInt64Array, n)),
    })
  }
  const children: Data[] = [
    makeData({ type: ENTITY_TYPE, length: n, data: codes, dictionary: makeVector(utf8Data(names)) }),
    dbl,
    i64,
    strs,
    bool,
    makeData({
      type: new TimestampMillisecond(),
      length: n,
      data: gatherInt64(c.eventTime, order, sc.get('c.ev', BigInt64Array, n)),
    }),
    makeData({
      type: new TimestampMillisecond(),
      length: n,
      data: gatherInt64(c.availableTime, order, sc.get('c.av', BigInt64Array, n)),
    }),
    makeData({
      type: new Int64(),
      length: n,
      data: gatherInt64(c.version, order, sc.get('c.ver', BigInt64Array, n)),
    }),
    makeData({ type: OUTCOME_TYPE, length: n, data: outcome, dictionary: OUTCOME_DICT }),
    tile,
  ]
  const fields = FILE_FIELDS as Schema['fields']
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: n, children }))
}
