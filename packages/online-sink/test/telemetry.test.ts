import { metricValue, pointsOf, testMeter } from '@skewless/adapter-tests'
import { manualClock } from '@skewless/core'
import { describe, expect, it } from 'vitest'
import { memoryStore, onlineReader, onlineSink, StoreUnavailableError } from '../src/index.js'
import { faultyStore } from './faulty-store.js'
import { FEATURES, up } from './helpers.js'

const T0 = Date.UTC(2026, 11, 7)

describe('online sink, reader and memory store telemetry (OpenTelemetry SDK)', () => {
  it('sink counters equal metrics(): applied/stale/coalesced/retries/dead letters by reason; freshness per batch; store calls timed', async () => {
    const m = testMeter()
    const clock = manualClock(T0)
    const inner = memoryStore({ meterProvider: m.provider, clock })
    const store = faultyStore(inner)
    const sink = onlineSink({
      store,
      features: FEATURES,
      clock,
      maxBatchSize: 50,
      lingerMs: 0,
      retry: { retries: 1, minDelayMs: 1, maxDelayMs: 1 },
      meterProvider: m.provider,
    })
    // 100 fresh writes (each 2 s old when applied), then 10 older ones of the same keys (stale).
    const fresh = Array.from({ length: 100 }, (_, i) => up(`e${i}`, 'score', i, T0 - 2000, 1))
    clock.set(T0)
    await sink.write(fresh)
    await sink.flush()
    await sink.write(Array.from({ length: 10 }, (_, i) => up(`e${i}`, 'score', -1, T0 - 9000, 0)))
    await sink.flush()
    // One transient failure: retried once, then applied.
    store.failNext(1, () => new StoreUnavailableError('connection lost', { store: 'test' }))
    await sink.write([up('x', 'score', 1, T0 - 500, 1)])
    await sink.flush()
    // Two transient failures with retries: 1: dead-lettered 'retries-exhausted'.
    store.failNext(2, () => new StoreUnavailableError('connection lost', { store: 'test' }))
    await sink.write([up('y', 'score', 1, T0 - 500, 1)])
    await sink.flush()
    // A value that does not fit its type: dead-lettered 'serialization' before any store call.
    await sink.write([up('z', 'score', 'not a number', T0, 1)])
    await sink.flush()
    const sm = sink.metrics()
    const pts = await m.collect()
    const s = { 'skewless.store': store.name }
    expect(metricValue(pts, 'skewless.sink.updates', s)).toBe(sm.updates)
    expect(metricValue(pts, 'skewless.sink.writes', { ...s, 'skewless.outcome': 'applied' })).toBe(101)
    expect(metricValue(pts, 'skewless.sink.writes', { ...s, 'skewless.outcome': 'stale' })).toBe(10)
    expect(sm.applied).toBe(101)
    expect(sm.stale).toBe(10)
    expect(metricValue(pts, 'skewless.sink.retries', s)).toBe(sm.retries)
    expect(sm.retries).toBe(2)
    const dead = pointsOf(pts, 'skewless.sink.dead_letters', s)
    expect(Object.fromEntries(dead.map((d) => [d.attributes['skewless.reason'], d.value]))).toEqual({
      'retries-exhausted': 1,
      serialization: 1,
    })
    expect(metricValue(pts, 'skewless.sink.buffered', s)).toBe(0)
    // Freshness: one point per answered batch with applied writes, max age in seconds.
    const fr = pointsOf(pts, 'skewless.sink.freshness', s)[0]
    expect(fr?.unit).toBe('s')
    expect(fr?.count).toBe(3)
    expect(fr?.max).toBe(2)
    expect(fr?.min).toBe(0.5)
    // The memory store timed its calls (the faulty wrapper's failures never reached it).
    const applies = pointsOf(pts, 'db.client.operation.duration', {
      'db.system.name': 'skewless.memory',
      'db.operation.name': 'apply',
    })
    expect(applies[0]?.count).toBe(store.calls.length - 3)
    expect(applies[0]?.scope).toBe('@skewless/online-sink')

    // Coalescing: 5 updates of one key while its write is in flight leave one pending.
    store.hold()
    await sink.write([up('c', 'score', 0, T0, 1)])
    for (let v = 1; v <= 5; v++) await sink.write([up('c', 'score', v, T0, v + 1)])
    store.release()
    await sink.flush()
    expect(metricValue(await m.collect(), 'skewless.sink.coalesced', s)).toBe(sink.metrics().coalesced)
    expect(sink.metrics().coalesced).toBe(4)
    await sink.close()
    await m.shutdown()
  })

  it('the reader counts entities, served and null values, and times each get', async () => {
    const m = testMeter()
    const clock = manualClock(T0)
    const store = memoryStore({ clock })
    const sink = onlineSink({ store, features: FEATURES, clock })
    await sink.write([up('a', 'score', 1, T0), up('b', 'score', 2, T0)])
    await sink.close()
    const reader = onlineReader({ store, features: FEATURES, clock, meterProvider: m.provider })
    await reader.get(['a', 'b', 'nobody'], ['score', 'label'])
    await reader.get(['a'], ['score'])
    const pts = await m.collect()
    expect(metricValue(pts, 'skewless.reader.entities')).toBe(4)
    expect(metricValue(pts, 'skewless.reader.values', { 'skewless.outcome': 'served' })).toBe(3)
    expect(metricValue(pts, 'skewless.reader.values', { 'skewless.outcome': 'null' })).toBe(4)
    expect(pointsOf(pts, 'skewless.reader.duration')[0]?.count).toBe(2)
    await m.shutdown()
  })
})
