import type { FeatureWrite, ValueType } from '@skewless/core'
import type { FeatureTypes } from '@skewless/offline-log'
import { DAY_MS } from './layout.js'
import type { Scratch } from './scratch.js'

/**
 * The records of one commit, extracted once, in one sequential pass, into typed arrays. Everything
 * after this (sorting, splitting, building Arrow columns) reads typed arrays instead of chasing
 * 2M objects in random (sorted) order, which measured ~3x faster than building from the objects.
 */
export interface CommitColumns {
  n: number
  /** Entity id of each row (index into `entityNames`). */
  entity: Int32Array
  entityNames: string[]
  /** Rank of each entity id in JS string order. */
  entityRank: Int32Array
  /** Partition (feature, UTC day of eventTime) of each row, index into `groups`. */
  group: Int32Array
  groups: { feature: string; day: number; type: ValueType }[]
  eventTime: Float64Array
  availableTime: Float64Array
  version: Float64Array
  /** `tileStart`, NaN when absent. */
  tileStart: Float64Array
  hasTiles: boolean
  /** Numeric value (double, int64, bool as 0/1). */
  num: Float64Array
  /** String values (only rows of string features). */
  str: (string | null)[] | undefined
  isNull: Uint8Array
  stale: Uint8Array
}

/** Extract the columns of valid records (see `checkRecord`). */
export function extractColumns(
  records: readonly FeatureWrite[],
  featureTypes: Readonly<FeatureTypes>,
  scratch: Scratch,
): CommitColumns {
  const n = records.length
  const entity = scratch.get('x.entity', Int32Array, n)
  const group = scratch.get('x.group', Int32Array, n)
  const eventTime = scratch.get('x.eventTime', Float64Array, n)
  const availableTime = scratch.get('x.availableTime', Float64Array, n)
  const version = scratch.get('x.version', Float64Array, n)
  const tileStart = scratch.get('x.tileStart', Float64Array, n)
  const num = scratch.get('x.num', Float64Array, n, true)
  const isNull = scratch.get('x.isNull', Uint8Array, n, true)
  const stale = scratch.get('x.stale', Uint8Array, n, true)
  let str: (string | null)[] | undefined
  let hasTiles = false
  const ids = new Map<string, number>()
  const entityNames: string[] = []
  const groupIds = new Map<string, Map<number, number>>()
  const groups: CommitColumns['groups'] = []
  let lastFeature = ''
  let lastDays: Map<number, number> | undefined
  let lastType: ValueType = 'double'
  let lastDay = Number.NaN
  let lastGroup = -1
  for (let i = 0; i < n; i++) {
    const r = records[i] as FeatureWrite
    let id = ids.get(r.entity)
    if (id === undefined) {
      id = entityNames.length
      ids.set(r.entity, id)
      entityNames.push(r.entity)
    }
    entity[i] = id
    const et = r.eventTime
    if (r.feature !== lastFeature || lastDays === undefined) {
      lastFeature = r.feature
      lastType = featureTypes[r.feature] as ValueType
      lastDays = groupIds.get(r.feature)
      if (lastDays === undefined) {
        lastDays = new Map()
        groupIds.set(r.feature, lastDays)
      }
      lastDay = Number.NaN
    }
    const day = Math.floor(et / DAY_MS)
    if (day !== lastDay) {
      lastDay = day
      let g = lastDays.get(day)
      if (g === undefined) {
        g = groups.length
        lastDays.set(day, g)
        groups.push({ feature: r.feature, day, type: lastType })
      }
      lastGroup = g
    }
    group[i] = lastGroup
    eventTime[i] = et
    availableTime[i] = r.availableTime
    version[i] = r.version
    if (r.tileStart === undefined) tileStart[i] = Number.NaN
    else {
      tileStart[i] = r.tileStart
      hasTiles = true
    }
    if (r.outcome === 'stale') stale[i] = 1
    const v = r.value
    if (v === null) isNull[i] = 1
    else if (lastType === 'string') {
      if (str === undefined) str = new Array(n).fill(null)
      str[i] = v as string
    } else if (lastType === 'bool') num[i] = v ? 1 : 0
    else num[i] = v as number
  }
  // One sort of the distinct entities for the whole commit (not one per partition).
  const m = entityNames.length
  const byName = Array.from({ length: m }, (_, i) => i).sort((a, b) => {
    const x = entityNames[a] as string
    const y = entityNames[b] as string
    return x < y ? -1 : x > y ? 1 : 0
  })
  const entityRank = new Int32Array(m)
  for (let r = 0; r < m; r++) entityRank[byName[r] as number] = r
  return {
    n,
    entity,
    entityNames,
    entityRank,
    group,
    groups,
    eventTime,
    availableTime,
    version,
    tileStart,
    hasTiles,
    num,
    str,
    isNull,
    stale,
  }
}
