import type { FeatureWrite } from '@skewless/core'

const T0 = Date.UTC(2026, 10, 1)
/** Rows of a non-empty batch of the marks crash test. */
export const MARKS_BATCH_ROWS = 60

/** Batch `id` of the marks crash test: empty when `id % 4 === 3`, else rows over three days and two features. */
export function marksBatch(id: number): FeatureWrite[] {
  if (id % 4 === 3) return []
  return Array.from({ length: MARKS_BATCH_ROWS }, (_, k) => {
    const eventTime = T0 + (k % 3) * 86_400_000 + id * 100 + k
    const x = k % 2 === 0
    return {
      entity: `b${id}-e${k % 7}`,
      feature: x ? 'x' : 'y',
      value: x ? id : `v${id}`,
      eventTime,
      version: id,
      availableTime: eventTime + 1,
      outcome: 'applied' as const,
    }
  })
}
