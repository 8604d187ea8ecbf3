import v8 from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { BatchObservableCallback, MeterProvider, Observable } from '@opentelemetry/api'
import { metricValue, pointsOf, testMeter } from '@skewless/adapter-tests'
import { describe, expect, it } from 'vitest'
import {
  arraySource,
  type CommittedCheckpoint,
  collectingSink,
  count,
  createPipeline,
  defineFeatures,
  type FeatureUpdate,
  manualClock,
  tumbling,
} from '../src/index.js'

interface Ev {
  user: string
  ts: unknown
}
const NOW = Date.UTC(2026, 11, 7)
const features = () =>
  defineFeatures<Ev>({
    entity: (e) => e.user,
    eventTime: (e) => e.ts,
    features: { clicks_1m: { window: tumbling('1m'), aggregate: count() } },
  })

describe('pipeline telemetry (OpenTelemetry SDK)', () => {
  it('counts events, late events, dead letters by reason, updates, batches and checkpoints as the pipeline metrics say', async () => {
    const m = testMeter()
    const { provider, removed } = recordingRemovals(m.provider)
    const events: Ev[] = []
    for (let i = 0; i < 1000; i++) events.push({ user: `u${i % 7}`, ts: NOW - 600_000 + i * 100 })
    // 3 bad times (dead letters 'invalid-time'), then 2 events far behind the watermark (late).
    events.push({ user: 'u1', ts: 'not a time' }, { user: 'u2', ts: Number.NaN }, { user: 'u3', ts: null })
    events.push({ user: 'u1', ts: NOW - 3_600_000 }, { user: 'u2', ts: NOW - 3_600_000 })
    const commits: CommittedCheckpoint[] = []
    const p = createPipeline<Ev>({
      source: arraySource('clicks', events, { batchSize: 100 }),
      features: features(),
      sink: collectingSink<FeatureUpdate>(),
      clock: manualClock(NOW),
      checkpoints: {
        async commitCheckpoint(c) {
          commits.push(c)
        },
        latestCheckpoint: async () => commits.at(-1),
      },
      meterProvider: provider,
      metricAttributes: { 'skewless.worker': 'w1' },
      logger: false,
    })
    await p.run()
    await p.checkpoint()
    const pm = p.metrics
    const pts = await m.collect()
    const w = { 'skewless.worker': 'w1' }
    expect(metricValue(pts, 'skewless.pipeline.events', w)).toBe(events.length)
    expect(metricValue(pts, 'skewless.pipeline.events.late', w)).toBe(2)
    expect(pm.lateEvents).toBe(2)
    const dead = pointsOf(pts, 'skewless.pipeline.dead_letters', w)
    expect(dead.reduce((s, d) => s + d.value, 0)).toBe(3)
    expect(dead.map((d) => d.attributes['skewless.reason'])).toEqual(['invalid-time'])
    expect(metricValue(pts, 'skewless.pipeline.updates', w)).toBe(pm.updatesOut)
    expect(pm.updatesOut).toBeGreaterThan(0)
    expect(metricValue(pts, 'skewless.pipeline.batches', w)).toBe(pm.batches)
    expect(metricValue(pts, 'skewless.pipeline.checkpoints', w)).toBe(2)
    const cp = pointsOf(pts, 'skewless.pipeline.checkpoint.duration', w)[0]
    expect(cp?.unit).toBe('s')
    expect(cp?.count).toBe(2)
    expect(cp?.max).toBeGreaterThanOrEqual(0)
    expect(cp?.max).toBeLessThan(5)
    expect(pointsOf(pts, 'skewless.pipeline.checkpoint.pause', w)[0]?.count).toBe(2)
    // The watermark ends at the last event, 500.1 s before the clock.
    expect(pm.watermark).toBe(NOW - 500_100)
    expect(metricValue(pts, 'skewless.pipeline.watermark.lag', w)).toBeCloseTo(500.1, 6)
    expect(pointsOf(pts, 'skewless.pipeline.events')[0]?.scope).toBe('@skewless/core')
    expect(removed.length).toBe(0)
    await p.close()
    // A closed pipeline is observed once more (its final counts), then no longer.
    expect(removed.length).toBe(0)
    expect(metricValue(await m.collect(), 'skewless.pipeline.events', w)).toBe(events.length)
    expect(removed.length).toBe(1)
    await m.shutdown()
  })

  it('a pipeline nobody holds any more stops being observed (its callback holds it weakly)', async () => {
    v8.setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const m = testMeter()
    const { provider, removed } = recordingRemovals(m.provider)
    const make = async () => {
      const p = createPipeline<Ev>({
        source: [{ user: 'a', ts: NOW }],
        features: features(),
        sink: collectingSink<FeatureUpdate>(),
        clock: manualClock(NOW),
        meterProvider: provider,
        logger: false,
      })
      await p.run()
    }
    await make()
    expect(metricValue(await m.collect(), 'skewless.pipeline.events')).toBe(1)
    for (let i = 0; i < 5; i++) {
      gc()
      await new Promise((r) => setTimeout(r, 10))
    }
    expect(removed.length).toBe(0)
    await m.collect()
    expect(removed.length).toBe(1)
    await m.shutdown()
  })
})

/** `provider`, whose meters record the callbacks removed from them. */
function recordingRemovals(inner: MeterProvider): { provider: MeterProvider; removed: unknown[] } {
  const removed: unknown[] = []
  const provider: MeterProvider = {
    getMeter(name, version, options) {
      const meter = inner.getMeter(name, version, options)
      return new Proxy(meter, {
        get(target, key) {
          if (key === 'removeBatchObservableCallback') {
            return (cb: BatchObservableCallback, obs: Observable[]) => {
              removed.push(cb)
              target.removeBatchObservableCallback(cb, obs)
            }
          }
          const v = Reflect.get(target, key)
          return typeof v === 'function' ? v.bind(target) : v
        },
      })
    },
  }
  return { provider, removed }
}
