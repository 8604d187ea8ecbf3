import type { FeatureWrite } from '@skewless/core'
import { memoryLog, type OfflineLog } from '@skewless/offline-log'
import { describe, expect, it } from 'vitest'
import { type FreshnessProgress, freshnessReport } from '../src/index.js'

const T = Date.UTC(2026, 0, 1)
const MIN = 60_000

function write(
  entity: string,
  eventTime: number,
  availableTime: number,
  extra: Partial<FeatureWrite> = {},
): FeatureWrite {
  return {
    entity,
    feature: 'x',
    value: 1,
    eventTime,
    availableTime,
    version: 0,
    outcome: 'applied',
    ...extra,
  }
}

/** One entity, one value per minute, each readable 10 s after its eventTime, for an hour. */
async function minuteLog(): Promise<OfflineLog> {
  const log = memoryLog({ features: { x: 'double', y: 'int64' } })
  const writes: FeatureWrite[] = []
  for (let i = 0; i <= 60; i++) writes.push(write('a', T + i * MIN, T + i * MIN + 10_000))
  await log.append(writes)
  return log
}

describe('freshnessReport', () => {
  it('gives the age of the value held at each sample: flat for streaming, a sawtooth for batch', async () => {
    const log = await minuteLog()
    const report = await freshnessReport(log, { features: ['x'], batchEvery: '15m', samples: 61 })
    const f = report.features[0]
    if (!f) throw new Error('no feature')
    expect(report.batchEveryMs).toBe(15 * MIN)
    expect(f.records).toBe(61)
    expect(f.entities).toBe(1)
    expect(f.times[0]).toBe(T + 10_000)
    expect(f.times[60]).toBe(T + 60 * MIN + 10_000)
    // Sample k falls on record k's availableTime: the store holds it, 10 s old.
    expect([...f.streaming.p50]).toEqual(new Array(61).fill(10_000))
    // The batch store holds what the last quarter-hour materialization loaded: age = time since it.
    expect([...f.batch.p50]).toEqual(Array.from({ length: 61 }, (_, k) => ((10 + 60 * k) % 900) * 1000))
    expect(f.streaming.overall).toMatchObject({ count: 61, mean: 10_000, max: 10_000 })
    expect(f.batch.overall.max).toBe(850_000)
    expect(f.writeDelay).toMatchObject({ count: 61, max: 10_000, mean: 10_000 })
  })

  it('ignores records compare-and-set rejected, and samples an entity only once it held a value', async () => {
    const log = await minuteLog()
    await log.append([
      write('a', T + 200 * MIN, T + 20_000, { outcome: 'stale' }),
      write('b', T + 30 * MIN, T + 30 * MIN + 10_000),
    ])
    const report = await freshnessReport(log, { features: ['x'], batchEvery: '15m', samples: 61 })
    const f = report.features[0]
    if (!f) throw new Error('no feature')
    expect(f.streaming.p50[1]).toBe(10_000)
    expect(f.streaming.entities[29]).toBe(1)
    expect(f.streaming.entities[30]).toBe(2)
    // b's only value ages from its availableTime on; a's stays 10 s: the maximum is b's at the end.
    expect(f.streaming.mean[60]).toBe((10_000 + 30 * MIN + 10_000) / 2)
    // b's eventTime is 00:30 exactly: the 00:30 materialization loads it (eventTime <= m), not before.
    expect(f.batch.entities[29]).toBe(1)
    expect(f.batch.entities[30]).toBe(2)
  })

  it('leaves features without records out and rejects undeclared ones', async () => {
    const log = await minuteLog()
    const report = await freshnessReport(log)
    expect(report.features.map((f) => f.feature)).toEqual(['x'])
    await expect(freshnessReport(log, { features: ['nope'] })).rejects.toThrow(/not declared/)
    await expect(freshnessReport(log, { batchEvery: 'soon' })).rejects.toThrow(/not a duration/)
    await expect(freshnessReport(log, { samples: 1 })).rejects.toThrow(/samples/)
    await expect(freshnessReport(log, { from: T + MIN, to: T })).rejects.toThrow(/to .* must be >= from/)
    await expect(freshnessReport(log, { from: Number.NaN })).rejects.toThrow(/from must be a finite number/)
    await expect(freshnessReport(log, { memoryBytes: 0 })).rejects.toThrow(/memoryBytes/)
  })

  it('matches stateAt at every sample, whether the entities fit memory or are split into partitions', async () => {
    const log = memoryLog({ features: { x: 'double' } })
    let seed = 7
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
      return seed / 2_147_483_648
    }
    const writes: FeatureWrite[] = []
    for (let i = 0; i < 3000; i++) {
      const ev = T + Math.floor(rand() * 180 * MIN)
      writes.push(write(`e${Math.floor(rand() * 60)}`, ev, ev + Math.floor(rand() * 90_000), { version: i }))
    }
    await log.append(writes)
    const whole = await freshnessReport(log, { batchEvery: '20m', samples: 50 })
    const split = await freshnessReport(log, { batchEvery: '20m', samples: 50, memoryBytes: 4096 })
    const [a, b] = [whole.features[0], split.features[0]]
    if (!a || !b) throw new Error('no feature')
    expect(a.partitions).toBe(1)
    expect(b.partitions).toBeGreaterThan(4)
    expect(b.streaming.overall).toEqual(a.streaming.overall)
    expect([...b.batch.p90]).toEqual([...a.batch.p90])
    for (let k = 0; k < a.times.length; k += 7) {
      const t = a.times[k] as number
      const held = await log.stateAt(t, { features: ['x'] })
      expect(a.streaming.entities[k]).toBe(held.length)
      expect(a.streaming.mean[k]).toBeCloseTo(
        held.reduce((s, w) => s + (t - w.eventTime), 0) / held.length,
        6,
      )
      const m = Math.floor(t / (20 * MIN)) * 20 * MIN
      const loaded = await log.stateAt(m, { features: ['x'], by: 'event' })
      expect(a.batch.entities[k]).toBe(loaded.length)
      if (loaded.length > 0) {
        const ages = loaded.map((w) => t - w.eventTime)
        expect(b.batch.mean[k]).toBeCloseTo(ages.reduce((s, x) => s + x, 0) / ages.length, 6)
        const median = ages.sort((x, y) => x - y)[Math.ceil(ages.length / 2) - 1] as number
        expect(Math.abs((a.batch.p50[k] as number) - median)).toBeLessThanOrEqual(median / 32)
      }
    }
  })

  it('adds the ages of served values at their read times, when given', async () => {
    const log = await minuteLog()
    const served = [
      { feature: 'x', eventTime: T, readTime: T + 35_000 }, // nearest sample 0 (T + 10 s): 35 s old
      { feature: 'x', eventTime: T + 5 * MIN, readTime: T + 5 * MIN + 20_000 }, // sample 5: 20 s
      { feature: 'x', eventTime: null, readTime: T + 6 * MIN }, // nothing served: skipped
      { feature: 'y', eventTime: T, readTime: T + MIN }, // another feature
      { feature: 'x', eventTime: T - 11 * MIN, readTime: T - 10 * MIN }, // before the sampled range: overall only
    ]
    const report = await freshnessReport(log, { features: ['x'], samples: 61, served })
    const s = report.features[0]?.served
    if (!s) throw new Error('no served series')
    expect(s.p50[0]).toBe(35_000)
    expect(s.p50[5]).toBe(20_000)
    expect(s.entities.reduce((a, b) => a + b, 0)).toBe(2)
    expect(s.overall).toMatchObject({ count: 3, max: 60_000 })
    expect((await freshnessReport(log, { features: ['x'] })).features[0]?.served).toBeUndefined()
  })

  it('reports progress and stops on abort', async () => {
    const log = await minuteLog()
    const seen: FreshnessProgress[] = []
    await freshnessReport(log, { onProgress: (p) => seen.push(p) })
    // x: a scan for its bounds and one for its ages; y has no records, so no second scan.
    expect(seen.at(-1)).toMatchObject({ scansDone: 3, scansTotal: 3, rows: 122 })
    const ac = new AbortController()
    ac.abort()
    await expect(freshnessReport(log, { signal: ac.signal })).rejects.toMatchObject({ code: 'aborted' })
  })
})
