import type { FeatureWrite } from '@skewless/core'
import { DAY_MS, type SegmentBounds } from './layout.js'

/** The rows of one future file: one feature, one UTC day of eventTime, sorted. */
export interface PartitionChunk {
  feature: string
  day: number
  /** Indices into the committed records, sorted by (entity, eventTime, version, availableTime). */
  order: Int32Array
  bounds: SegmentBounds
}

/**
 * Group records by (feature, UTC day of eventTime), sort each group by (entity, eventTime, version,
 * availableTime) and cut it into chunks of at most `rollRows` rows.
 *
 * Sorting is a counting sort on the entity's rank (distinct entities sorted once, in JS string
 * order) followed by an insertion sort of each entity's few rows by time — linear in the row count
 * for the usual case of a handful of rows per entity, instead of an O(n log n) comparator sort that
 * compares strings on every step.
 */
export function partitionRecords(records: readonly FeatureWrite[], rollRows: number): PartitionChunk[] {
  const groups = new Map<string, Map<number, number[]>>()
  let lastFeature: string | undefined
  let lastDays: Map<number, number[]> | undefined
  let lastDay = Number.NaN
  let lastList: number[] | undefined
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as FeatureWrite
    if (r.feature !== lastFeature) {
      lastFeature = r.feature
      lastDays = groups.get(r.feature)
      if (lastDays === undefined) {
        lastDays = new Map()
        groups.set(r.feature, lastDays)
      }
      lastDay = Number.NaN
    }
    const day = Math.floor(r.eventTime / DAY_MS)
    if (day !== lastDay) {
      lastDay = day
      lastList = (lastDays as Map<number, number[]>).get(day)
      if (lastList === undefined) {
        lastList = []
        ;(lastDays as Map<number, number[]>).set(day, lastList)
      }
    }
    ;(lastList as number[]).push(i)
  }
  const out: PartitionChunk[] = []
  for (const [feature, days] of groups) {
    for (const [day, idx] of days) {
      const sorted = sortGroup(records, idx)
      for (let s = 0; s < sorted.length; s += rollRows) {
        const order = sorted.subarray(s, Math.min(sorted.length, s + rollRows))
        out.push({ feature, day, order, bounds: boundsOf(records, order) })
      }
    }
  }
  return out
}

function boundsOf(records: readonly FeatureWrite[], order: Int32Array): SegmentBounds {
  let minE = Number.POSITIVE_INFINITY
  let maxE = Number.NEGATIVE_INFINITY
  let minA = Number.POSITIVE_INFINITY
  let maxA = Number.NEGATIVE_INFINITY
  for (let k = 0; k < order.length; k++) {
    const r = records[order[k] as number] as FeatureWrite
    if (r.eventTime < minE) minE = r.eventTime
    if (r.eventTime > maxE) maxE = r.eventTime
    if (r.availableTime < minA) minA = r.availableTime
    if (r.availableTime > maxA) maxA = r.availableTime
  }
  return { minEventTime: minE, maxEventTime: maxE, minAvailableTime: minA, maxAvailableTime: maxA }
}

function later(a: FeatureWrite, b: FeatureWrite): boolean {
  return (
    a.eventTime > b.eventTime ||
    (a.eventTime === b.eventTime &&
      (a.version > b.version || (a.version === b.version && a.availableTime > b.availableTime)))
  )
}

/** Sorted copy of `idx` (indices into `records`). */
export function sortGroup(records: readonly FeatureWrite[], idx: readonly number[]): Int32Array {
  const n = idx.length
  const ids = new Map<string, number>()
  const names: string[] = []
  const local = new Int32Array(n)
  for (let k = 0; k < n; k++) {
    const e = (records[idx[k] as number] as FeatureWrite).entity
    let id = ids.get(e)
    if (id === undefined) {
      id = names.length
      ids.set(e, id)
      names.push(e)
    }
    local[k] = id
  }
  const m = names.length
  const byName = Array.from({ length: m }, (_, i) => i).sort((a, b) => {
    const x = names[a] as string
    const y = names[b] as string
    return x < y ? -1 : x > y ? 1 : 0
  })
  const rank = new Int32Array(m)
  for (let r = 0; r < m; r++) rank[byName[r] as number] = r
  const start = new Int32Array(m + 1)
  for (let k = 0; k < n; k++) {
    const r1 = (rank[local[k] as number] as number) + 1
    start[r1] = (start[r1] as number) + 1
  }
  for (let r = 0; r < m; r++) start[r + 1] = (start[r + 1] as number) + (start[r] as number)
  const out = new Int32Array(n)
  const fill = start.slice(0, m)
  for (let k = 0; k < n; k++) {
    const r = rank[local[k] as number] as number
    out[fill[r] as number] = idx[k] as number
    fill[r] = (fill[r] as number) + 1
  }
  for (let r = 0; r < m; r++) {
    const lo = start[r] as number
    const hi = start[r + 1] as number
    if (hi - lo < 2) continue
    if (hi - lo > 64) {
      const seg = Array.from(out.subarray(lo, hi)).sort((a, b) =>
        later(records[a] as FeatureWrite, records[b] as FeatureWrite)
          ? 1
          : later(records[b] as FeatureWrite, records[a] as FeatureWrite)
            ? -1
            : a - b,
      )
      out.set(seg, lo)
      continue
    }
    for (let i = lo + 1; i < hi; i++) {
      const v = out[i] as number
      const rv = records[v] as FeatureWrite
      let j = i - 1
      while (j >= lo && later(records[out[j] as number] as FeatureWrite, rv)) {
        out[j + 1] = out[j] as number
        j--
      }
      out[j + 1] = v
    }
  }
  return out
}
