import type { FeatureWrite } from '@skewless/core'
import type { ParquetLog } from '../src/types.js'

/** Features of the concurrent-reader tests. */
export const BATCH_FEATURES = { clicks: 'int64' } as const
/** Rows per batch. */
export const BATCH_ROWS = 40
const T0 = Date.UTC(2026, 5, 1)

/**
 * Batch `id`: one append whose rows all go to one partition (so it is one file, visible atomically),
 * alternating between two days; every row carries the batch id as its value and is unique.
 */
export function batch(id: number): FeatureWrite[] {
  const day = (id % 2) * 86_400_000
  return Array.from({ length: BATCH_ROWS }, (_, k) => {
    const eventTime = T0 + day + id * 1000 + k
    return {
      entity: `e${(id * 7 + k) % 17}`,
      feature: 'clicks',
      value: id,
      eventTime,
      version: k,
      availableTime: eventTime + 3,
      outcome: k % 9 === 0 ? 'stale' : 'applied',
    }
  })
}

/** Rows per batch id in one scan, and rows seen twice. */
export async function scanBatches(log: ParquetLog): Promise<Map<number, number>> {
  const counts = new Map<number, number>()
  for await (const rows of log.scanRows({ features: ['clicks'], includeStale: true })) {
    for (const r of rows) counts.set(r.value as number, (counts.get(r.value as number) ?? 0) + 1)
  }
  return counts
}

/** What one scan got wrong: batches with duplicated or missing rows, batches seen before and now missing. */
export interface ScanCheck {
  rows: number
  batches: number
  /** Batch ids whose row count is not BATCH_ROWS (duplicates or a partial batch). */
  wrong: number[]
  /** Batch ids that an earlier scan (or the writer's acknowledgement) showed and this one did not. */
  lost: number[]
}

/** Check one scan against the batches that must be there (`mustHave`). */
export function checkScan(counts: Map<number, number>, mustHave: Iterable<number>): ScanCheck {
  const wrong: number[] = []
  let rows = 0
  for (const [id, n] of counts) {
    rows += n
    if (n !== BATCH_ROWS) wrong.push(id)
  }
  const lost: number[] = []
  for (const id of mustHave) if (!counts.has(id)) lost.push(id)
  return { rows, batches: counts.size, wrong, lost }
}
