import { type FeatureWrite, InvalidArgumentError } from '@skewless/core'
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
import { ENTITY_TYPE, FEATURE_TYPE, LOG_SCHEMA_FIELDS, OUTCOME_TYPE } from './arrow-schema.js'
import { int32View, setInt64 } from './int64.js'
import type { FeatureTypes } from './types.js'
import { utf8Data } from './utf8.js'

const OUTCOME_DICT = makeVector(utf8Data(['applied', 'stale']))

function clearBit(bitmap: Uint8Array, i: number): void {
  bitmap[i >> 3] = (bitmap[i >> 3] as number) & ~(1 << (i & 7))
}

function allValid(n: number): Uint8Array {
  return new Uint8Array((n + 7) >> 3).fill(255)
}

/**
 * Convert records to one log `RecordBatch` (layout in `types.ts`), in the given order (`order[i]` is
 * the index in `records` of row `i`; default: as given). The records must already be valid (see
 * `checkRecord`); the feature's declared type picks the value column. String columns are built as
 * Dictionary<Int32, Utf8> with the dictionary in first-seen order, so a batch sorted by entity also
 * has a sorted entity dictionary.
 */
export function writesToRecordBatch(
  records: readonly FeatureWrite[],
  featureTypes: Readonly<FeatureTypes>,
  order?: ArrayLike<number>,
): RecordBatch {
  const n = order ? order.length : records.length
  const entityIdx = new Int32Array(n)
  const featureIdx = new Int32Array(n)
  const outcomeIdx = new Int32Array(n)
  const entityIds = new Map<string, number>()
  const entityNames: string[] = []
  const featureIds = new Map<string, number>()
  const featureNames: string[] = []
  const dbl = new Float64Array(n)
  const i64 = new BigInt64Array(n)
  const i64w = int32View(i64)
  const strs: (string | null)[] = new Array(n).fill(null)
  const bools = new Uint8Array((n + 7) >> 3)
  const ev = new BigInt64Array(n)
  const evw = int32View(ev)
  const av = new BigInt64Array(n)
  const avw = int32View(av)
  const ver = new BigInt64Array(n)
  const verw = int32View(ver)
  const tile = new BigInt64Array(n)
  const tilew = int32View(tile)
  const dblValid = new Uint8Array((n + 7) >> 3)
  const i64Valid = new Uint8Array((n + 7) >> 3)
  const boolValid = new Uint8Array((n + 7) >> 3)
  let tileValid: Uint8Array | undefined
  let dblN = 0
  let i64N = 0
  let boolN = 0
  let tileN = 0
  let lastFeature = ''
  let lastFeatureId = -1
  let lastType = ''
  for (let i = 0; i < n; i++) {
    const r = records[order ? (order[i] as number) : i] as FeatureWrite
    let eid = entityIds.get(r.entity)
    if (eid === undefined) {
      eid = entityNames.length
      entityIds.set(r.entity, eid)
      entityNames.push(r.entity)
    }
    entityIdx[i] = eid
    if (r.feature !== lastFeature || lastFeatureId < 0) {
      let fid = featureIds.get(r.feature)
      if (fid === undefined) {
        const t = featureTypes[r.feature]
        if (t === undefined) {
          throw new InvalidArgumentError(
            `offline-log writesToRecordBatch: feature "${r.feature}" has no declared type in featureTypes`,
          )
        }
        fid = featureNames.length
        featureIds.set(r.feature, fid)
        featureNames.push(r.feature)
      }
      lastFeature = r.feature
      lastFeatureId = fid
      lastType = featureTypes[r.feature] as string
    }
    featureIdx[i] = lastFeatureId
    outcomeIdx[i] = r.outcome === 'stale' ? 1 : 0
    setInt64(evw, i, r.eventTime)
    setInt64(avw, i, r.availableTime)
    setInt64(verw, i, r.version)
    if (r.tileStart !== undefined) {
      setInt64(tilew, i, r.tileStart)
      tileN++
    } else {
      if (tileValid === undefined) tileValid = allValid(n)
      clearBit(tileValid, i)
    }
    const v = r.value
    if (v === null) continue
    const bit = 1 << (i & 7)
    switch (lastType) {
      case 'double':
        dbl[i] = v as number
        dblValid[i >> 3] = (dblValid[i >> 3] as number) | bit
        dblN++
        break
      case 'int64':
        setInt64(i64w, i, v as number)
        i64Valid[i >> 3] = (i64Valid[i >> 3] as number) | bit
        i64N++
        break
      case 'string':
        strs[i] = v as string
        break
      case 'bool':
        if (v) bools[i >> 3] = (bools[i >> 3] as number) | bit
        boolValid[i >> 3] = (boolValid[i >> 3] as number) | bit
        boolN++
        break
    }
  }
  const children: Data[] = [
    makeData({
      type: ENTITY_TYPE,
      length: n,
      data: entityIdx,
      dictionary: makeVector(utf8Data(entityNames)),
    }),
    makeData({
      type: FEATURE_TYPE,
      length: n,
      data: featureIdx,
      dictionary: makeVector(utf8Data(featureNames)),
    }),
    makeData({ type: new Float64(), length: n, nullCount: n - dblN, nullBitmap: dblValid, data: dbl }),
    makeData({ type: new Int64(), length: n, nullCount: n - i64N, nullBitmap: i64Valid, data: i64 }),
    utf8Data(strs, n),
    makeData({ type: new Bool(), length: n, nullCount: n - boolN, nullBitmap: boolValid, data: bools }),
    makeData({ type: new TimestampMillisecond(), length: n, data: ev }),
    makeData({ type: new TimestampMillisecond(), length: n, data: av }),
    makeData({ type: new Int64(), length: n, data: ver }),
    makeData({ type: OUTCOME_TYPE, length: n, data: outcomeIdx, dictionary: OUTCOME_DICT }),
    makeData({
      type: new TimestampMillisecond(),
      length: n,
      nullCount: n - tileN,
      nullBitmap: tileValid,
      data: tile,
    }),
  ]
  const fields = LOG_SCHEMA_FIELDS as Schema['fields']
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: n, children }))
}
