import type { Scratch } from './commit-buffers.js'
import type { CommitColumns } from './commit-columns.js'
import type { SegmentBounds } from './layout.js'

/** The rows of one future file: one feature, one UTC day of eventTime, sorted. */
export interface PartitionChunk {
  feature: string
  day: number
  /** Row indices (into the commit's records), sorted by (entity, eventTime, version, availableTime). */
  order: Int32Array
  /** Position of the chunk's first row in the commit's sorted order. */
  start: number
  /** Distinct entity ids of the chunk, in sorted order (its dictionary). */
  entities: number[]
  /** Dictionary code of each row of the chunk (index into `entities`). */
  codes: Int32Array
  bounds: SegmentBounds
}

/** Stable counting sort of `idx` by `key[idx[k]]` (keys in [0, buckets)). */
function countingSort(idx: Int32Array, key: (i: number) => number, buckets: number): Int32Array {
  const start = new Int32Array(buckets + 1)
  for (let k = 0; k < idx.length; k++) {
    const b = key(idx[k] as number) + 1
    start[b] = (start[b] as number) + 1
  }
  for (let b = 0; b < buckets; b++) start[b + 1] = (start[b + 1] as number) + (start[b] as number)
  const out = new Int32Array(idx.length)
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k] as number
    const b = key(i)
    out[start[b] as number] = i
    start[b] = (start[b] as number) + 1
  }
  return out
}

/**
 * Sort the commit by (partition, entity rank, eventTime, version, availableTime) and cut each
 * partition into chunks of at most `rollRows` rows.
 *
 * Two stable counting sorts (by entity rank, then by partition) are linear; each (partition, entity)
 * run is then insertion-sorted by time — it holds a handful of rows in the usual case and is
 * mostly in order already (records arrive roughly by time). Long runs fall back to a comparator sort.
 */
export function partitionColumns(
  c: CommitColumns,
  rollRows: number,
  scratch: Scratch,
): { order: Int32Array; chunks: PartitionChunk[] } {
  const n = c.n
  let order: Int32Array = new Int32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  const { meta, entityRank, group, row } = c
  order = countingSort(order, (i) => entityRank[meta[2 * i] as number] as number, c.entityNames.length)
  order = countingSort(order, (i) => group[i] as number, c.groups.length)
  // row = [eventTime, availableTime, version, value] per row
  const later = (a: number, b: number) =>
    (row[4 * a] as number) - (row[4 * b] as number) ||
    (row[4 * a + 2] as number) - (row[4 * b + 2] as number) ||
    (row[4 * a + 1] as number) - (row[4 * b + 1] as number)
  const out: PartitionChunk[] = []
  // entity id at each sorted position, written while the runs are walked (sequentially), so the
  // dictionary codes of each file need no second pass of random reads
  const ent = scratch.get('p.ent', Int32Array, n)
  const codes = scratch.get('p.codes', Int32Array, n)
  let lo = 0
  while (lo < n) {
    const g = group[order[lo] as number] as number
    let hi = lo
    while (hi < n && group[order[hi] as number] === g) hi++
    // sort each entity run by time
    let a = lo
    while (a < hi) {
      const e = meta[2 * (order[a] as number)]
      let b = a + 1
      while (b < hi && meta[2 * (order[b] as number)] === e) b++
      for (let k = a; k < b; k++) ent[k] = e as number
      if (b - a > 1) {
        if (b - a > 64) order.set(Array.from(order.subarray(a, b)).sort(later), a)
        else {
          for (let i = a + 1; i < b; i++) {
            const v = order[i] as number
            let j = i - 1
            while (j >= a && later(order[j] as number, v) > 0) {
              order[j + 1] = order[j] as number
              j--
            }
            order[j + 1] = v
          }
        }
      }
      a = b
    }
    const info = c.groups[g] as CommitColumns['groups'][number]
    for (let s = lo; s < hi; s += rollRows) {
      const part = order.subarray(s, Math.min(hi, s + rollRows))
      const bounds =
        hi - lo <= rollRows
          ? {
              minEventTime: info.minE,
              maxEventTime: info.maxE,
              minAvailableTime: info.minA,
              maxAvailableTime: info.maxA,
            }
          : boundsOf(c, part)
      const end = s + part.length
      const entities: number[] = []
      let last = -1
      for (let k = s; k < end; k++) {
        const e = ent[k] as number
        if (e !== last) {
          entities.push(e)
          last = e
        }
        codes[k] = entities.length - 1
      }
      out.push({
        feature: info.feature,
        day: info.day,
        order: part,
        start: s,
        entities,
        codes: codes.subarray(s, end),
        bounds,
      })
    }
    lo = hi
  }
  return { order, chunks: out }
}

function boundsOf(c: CommitColumns, order: Int32Array): SegmentBounds {
  let minE = Number.POSITIVE_INFINITY
  let maxE = Number.NEGATIVE_INFINITY
  let minA = Number.POSITIVE_INFINITY
  let maxA = Number.NEGATIVE_INFINITY
  for (let k = 0; k < order.length; k++) {
    const i = order[k] as number
    const e = c.row[4 * i] as number
    const a = c.row[4 * i + 1] as number
    if (e < minE) minE = e
    if (e > maxE) maxE = e
    if (a < minA) minA = a
    if (a > maxA) maxA = a
  }
  return { minEventTime: minE, maxEventTime: maxE, minAvailableTime: minA, maxAvailableTime: maxA }
}
