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
} from 'apache-arrow'
import type { CommitColumns } from './commit-columns.js'

const TWO_32 = 4294967296
const OUTCOME_DICT = makeVector(utf8Data(['applied', 'stale']))
/** Files store every log column except `feature`, which the `feature=` directory carries. */
const FILE_FIELDS = LOG_SCHEMA_FIELDS.filter((f) => f.name !== 'feature')

function gatherInt64(src: Float64Array, order: Int32Array): BigInt64Array {
  const n = order.length
  const out = new BigInt64Array(n)
  const w = new Int32Array(out.buffer, 0, n * 2)
  for (let k = 0; k < n; k++) {
    const x = src[order[k] as number] as number
    const hi = Math.floor(x / TWO_32)
    w[2 * k] = (x - hi * TWO_32) | 0
    w[2 * k + 1] = hi
  }
  return out
}

function allNull(type: Float64 | Int64 | Bool | TimestampMillisecond, n: number): Data {
  const bytes = type instanceof Bool ? (n + 7) >> 3 : n * 8
  const data =
    type instanceof Float64
      ? new Float64Array(n)
      : type instanceof Bool
        ? new Uint8Array(bytes)
        : new BigInt64Array(n)
  return makeData({ type, length: n, nullCount: n, nullBitmap: new Uint8Array((n + 7) >> 3), data } as never)
}

function validity(c: CommitColumns, order: Int32Array): { nullBitmap: Uint8Array; nullCount: number } {
  const n = order.length
  const bitmap = new Uint8Array((n + 7) >> 3)
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
export function chunkBatch(c: CommitColumns, order: Int32Array, type: string): RecordBatch {
  const n = order.length
  const codes = new Int32Array(n)
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
  const outcome = new Int32Array(n)
  for (let k = 0; k < n; k++) outcome[k] = c.stale[order[k] as number] as number
  let dbl = allNull(new Float64(), n)
  let i64 = allNull(new Int64(), n)
  let bool = allNull(new Bool(), n)
  let strs: Data
  if (type === 'string') {
    const s: (string | null)[] = new Array(n)
    const src = c.str
    for (let k = 0; k < n; k++) s[k] = src ? (src[order[k] as number] ?? null) : null
    strs = utf8Data(s, n)
  } else {
    strs = utf8Data(new Array(n).fill(null), n)
    const v = validity(c, order)
    if (type === 'double') {
      const out = new Float64Array(n)
      for (let k = 0; k < n; k++) out[k] = c.num[order[k] as number] as number
      dbl = makeData({ type: new Float64(), length: n, ...v, data: out })
    } else if (type === 'int64') {
      i64 = makeData({ type: new Int64(), length: n, ...v, data: gatherInt64(c.num, order) })
    } else {
      const bits = new Uint8Array((n + 7) >> 3)
      for (let k = 0; k < n; k++)
        if (c.num[order[k] as number] === 1) bits[k >> 3] = (bits[k >> 3] as number) | (1 << (k & 7))
      bool = makeData({ type: new Bool(), length: n, ...v, data: bits })
    }
  }
  let tile = allNull(new TimestampMillisecond(), n)
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
      data: gatherInt64(vals, idx),
    })
  }
  const children: Data[] = [
    makeData({ type: ENTITY_TYPE, length: n, data: codes, dictionary: makeVector(utf8Data(names)) }),
    dbl,
    i64,
    strs,
    bool,
    makeData({ type: new TimestampMillisecond(), length: n, data: gatherInt64(c.eventTime, order) }),
    makeData({ type: new TimestampMillisecond(), length: n, data: gatherInt64(c.availableTime, order) }),
    makeData({ type: new Int64(), length: n, data: gatherInt64(c.version, order) }),
    makeData({ type: OUTCOME_TYPE, length: n, data: outcome, dictionary: OUTCOME_DICT }),
    tile,
  ]
  const fields = FILE_FIELDS as Schema['fields']
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: n, children }))
}
