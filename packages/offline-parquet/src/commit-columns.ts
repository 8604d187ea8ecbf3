import type { FeatureWrite, ValueType } from '@skewless/core'
import type { FeatureTypes } from '@skewless/offline-log'
import type { Scratch } from './commit-buffers.js'
import { DAY_MS } from './layout.js'

/** Flag bits of `CommitColumns.meta[2 * i + 1]`. */
export const STALE = 1
export const NULL_VALUE = 2

/**
 * The records of one commit, extracted once, in one sequential pass, into typed arrays. Everything
 * after this (sorting, splitting, building Arrow columns) reads typed arrays instead of chasing 2M
 * objects in sorted — i.e. random — order. The per-row numbers are interleaved (row-major) so that
 * gathering a row in sorted order costs one or two cache misses instead of one per column.
 */
export interface CommitColumns {
  n: number
  /** Row-major: `[eventTime, availableTime, version, numeric value]` per row (bool as 0/1). */
  row: Float64Array
  /** Row-major: `[entity id, flags]` per row (flags: `STALE`, `NULL_VALUE`). */
  meta: Int32Array
  entityNames: string[]
  /** Rank of each entity id in JS string order. */
  entityRank: Int32Array
  /** Partition (feature, UTC day of eventTime) of each row, index into `groups`. */
  group: Int32Array
  groups: {
    feature: string
    day: number
    type: ValueType
    minE: number
    maxE: number
    minA: number
    maxA: number
  }[]
  /** `tileStart`, NaN when absent. */
  tileStart: Float64Array
  hasTiles: boolean
  /** String values (only rows of string features). */
  str: (string | null)[] | undefined
}

/** Extract the columns of valid records (see `checkRecord`). */
export function extractColumns(
  records: readonly FeatureWrite[],
  featureTypes: Readonly<FeatureTypes>,
  scratch: Scratch,
): CommitColumns {
  const n = records.length
  const row = scratch.get('x.row', Float64Array, n * 4)
  const meta = scratch.get('x.meta', Int32Array, n * 2)
  const group = scratch.get('x.group', Int32Array, n)
  const tileStart = scratch.get('x.tileStart', Float64Array, n)
  let str: (string | null)[] | undefined
  let hasTiles = false
  const ids = new Map<string, number>()
  const entityNames: string[] = []
  // One lookup per change of feature (rows of different features usually interleave): the feature's
  // state carries its type and its current (day, group), so the common case costs no second lookup.
  const states = new Map<string, { type: ValueType; day: number; group: number; days: Map<number, number> }>()
  const groups: CommitColumns['groups'] = []
  let lastFeature = ''
  let st: { type: ValueType; day: number; group: number; days: Map<number, number> } | undefined
  let lastType: ValueType = 'double'
  let lastGroup = -1
  let g0 = groups[0]
  for (let i = 0; i < n; i++) {
    const r = records[i] as FeatureWrite
    let id = ids.get(r.entity)
    if (id === undefined) {
      id = entityNames.length
      ids.set(r.entity, id)
      entityNames.push(r.entity)
    }
    const et = r.eventTime
    const at = r.availableTime
    if (r.feature !== lastFeature || st === undefined) {
      lastFeature = r.feature
      st = states.get(r.feature)
      if (st === undefined) {
        st = { type: featureTypes[r.feature] as ValueType, day: Number.NaN, group: -1, days: new Map() }
        states.set(r.feature, st)
      }
      lastType = st.type
    }
    const day = Math.floor(et / DAY_MS)
    if (day !== st.day) {
      let g = st.days.get(day)
      if (g === undefined) {
        g = groups.length
        st.days.set(day, g)
        groups.push({ feature: r.feature, day, type: lastType, minE: et, maxE: et, minA: at, maxA: at })
      }
      st.day = day
      st.group = g
    }
    if (st.group !== lastGroup) {
      lastGroup = st.group
      g0 = groups[lastGroup]
    }
    group[i] = lastGroup
    const b = g0 as CommitColumns['groups'][number]
    if (et < b.minE) b.minE = et
    else if (et > b.maxE) b.maxE = et
    if (at < b.minA) b.minA = at
    else if (at > b.maxA) b.maxA = at
    let flags = r.outcome === 'stale' ? STALE : 0
    let num = 0
    const v = r.value
    if (v === null) flags |= NULL_VALUE
    else if (lastType === 'string') {
      if (str === undefined) str = new Array(n).fill(null)
      str[i] = v as string
    } else if (lastType === 'bool') num = v ? 1 : 0
    else num = v as number
    const o = 4 * i
    row[o] = et
    row[o + 1] = at
    row[o + 2] = r.version
    row[o + 3] = num
    meta[2 * i] = id
    meta[2 * i + 1] = flags
    if (r.tileStart === undefined) tileStart[i] = Number.NaN
    else {
      tileStart[i] = r.tileStart
      hasTiles = true
    }
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
  return { n, row, meta, entityNames, entityRank, group, groups, tileStart, hasTiles, str }
}
