import { metricValue, pointsOf, testMeter } from '@skewless/adapter-tests'
import type { FeatureWrite, Progress } from '@skewless/core'
import { memoryLog } from '@skewless/offline-log'
import { describe, expect, it } from 'vitest'
import { asOfJoin } from '../src/index.js'

describe('as-of join telemetry and progress', () => {
  it('counts output rows and log records read, times the join, and reports progress up to the records read', async () => {
    const log = memoryLog({ features: { f: 'double' } })
    // 20 appends of 500 records: 20 runs, so the scan yields 20 batches.
    for (let a = 0; a < 20; a++) {
      const batch: FeatureWrite[] = []
      for (let i = 0; i < 500; i++) {
        const t = a * 500 + i
        batch.push({
          entity: `e${i % 50}`,
          feature: 'f',
          value: t,
          eventTime: t,
          availableTime: t,
          version: 0,
          outcome: 'applied',
        })
      }
      await log.append(batch)
    }
    const labels = {
      entity: Array.from({ length: 300 }, (_, i) => `e${i % 60}`),
      time: Array.from({ length: 300 }, (_, i) => 10_000 + i),
    }
    const m = testMeter()
    const seen: Progress[] = []
    const out = await asOfJoin(labels, log, {
      features: ['f'],
      meterProvider: m.provider,
      onProgress: (p) => seen.push({ ...p }),
    })
    expect(out.numRows).toBe(300)
    const pts = await m.collect()
    expect(metricValue(pts, 'skewless.join.joins')).toBe(1)
    expect(metricValue(pts, 'skewless.join.rows')).toBe(300)
    expect(metricValue(pts, 'skewless.join.log_records')).toBe(10_000)
    expect(pointsOf(pts, 'skewless.join.duration')[0]?.count).toBe(1)
    // Progress: in records, never decreasing, the last report complete.
    expect(seen.length).toBeGreaterThanOrEqual(2)
    for (let i = 1; i < seen.length; i++)
      expect(seen[i]?.done).toBeGreaterThanOrEqual(seen[i - 1]?.done as number)
    expect(seen.every((p) => p.unit === 'record' && p.phase === 'scan')).toBe(true)
    expect(seen.at(-1)).toEqual({ done: 10_000, total: 10_000, unit: 'record', phase: 'scan' })
    await m.shutdown()
  })
})
