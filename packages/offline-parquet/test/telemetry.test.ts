import { dirname } from 'node:path'
import { metricValue, pointsOf, testMeter } from '@skewless/adapter-tests'
import type { Progress } from '@skewless/core'
import { memoryLog } from '@skewless/offline-log'
import { afterAll, describe, expect, it } from 'vitest'
import { parquetLog } from '../src/index.js'
import { FEATURES, mixedRecords } from './data.js'
import { removeTempDirs, tempDir } from './helpers.js'

afterAll(removeTempDirs)

describe('offline log telemetry (OpenTelemetry SDK)', () => {
  it('the Parquet log records each commit (rows, bytes, duration, size) and compactions, as its stats count them; compact reports progress in partitions', async () => {
    const m = testMeter()
    const log = await parquetLog({ features: FEATURES, dir: await tempDir(), meterProvider: m.provider })
    const recs = mixedRecords(1200)
    // One append at a time: each is one commit.
    for (let i = 0; i < recs.length; i += 100) await log.append(recs.slice(i, i + 100))
    const seen: Progress[] = []
    const report = await log.compact({ minFiles: 2, onProgress: (p) => seen.push(p) })
    // Progress in partitions: never decreasing, the last report complete (every partition listed).
    const dirs = new Set((await log.listFiles()).map((f) => dirname(f)))
    expect(seen[0]).toEqual({ done: 0, total: dirs.size, unit: 'partition', phase: 'compact' })
    for (let i = 1; i < seen.length; i++)
      expect(seen[i]?.done).toBeGreaterThanOrEqual(seen[i - 1]?.done as number)
    expect(seen.at(-1)).toEqual({ done: dirs.size, total: dirs.size, unit: 'partition', phase: 'compact' })
    const pts = await m.collect()
    const k = { 'skewless.log.kind': 'parquet' }
    expect(log.stats.commits).toBe(12)
    expect(metricValue(pts, 'skewless.log.commits', k)).toBe(log.stats.commits)
    expect(metricValue(pts, 'skewless.log.rows', k)).toBe(log.stats.rows)
    expect(log.stats.rows).toBe(1200)
    expect(metricValue(pts, 'skewless.log.bytes', k)).toBe(log.stats.bytes)
    expect(pointsOf(pts, 'skewless.log.bytes', k)[0]?.unit).toBe('By')
    const size = pointsOf(pts, 'skewless.log.commit.size', k)[0]
    expect(size?.count).toBe(12)
    expect(size?.max).toBe(100)
    const dur = pointsOf(pts, 'skewless.log.commit.duration', k)[0]
    expect(dur?.count).toBe(12)
    expect(dur?.min).toBeGreaterThan(0)
    expect(dur?.max).toBeLessThan(30)
    expect(report.partitions).toBeGreaterThan(0)
    expect(metricValue(pts, 'skewless.log.compactions', k)).toBe(report.partitions)
    await log.close()
    await m.shutdown()
  })

  it('the memory log records one commit per append', async () => {
    const m = testMeter()
    const log = memoryLog({ features: FEATURES, meterProvider: m.provider })
    const recs = mixedRecords(300)
    await log.append(recs.slice(0, 120))
    await log.append(recs.slice(120))
    const pts = await m.collect()
    const k = { 'skewless.log.kind': 'memory' }
    expect(metricValue(pts, 'skewless.log.commits', k)).toBe(2)
    expect(metricValue(pts, 'skewless.log.rows', k)).toBe(300)
    expect(pointsOf(pts, 'skewless.log.commit.size', k)[0]?.max).toBe(180)
    expect(pointsOf(pts, 'skewless.log.bytes', k)).toEqual([])
    await log.close()
    await m.shutdown()
  })
})
