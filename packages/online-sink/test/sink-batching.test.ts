import { collectingSink, type FeatureWrite, manualClock } from '@skewless/core'
import { describe, expect, it } from 'vitest'
import { memoryStore, onlineSink } from '../src/index.js'
import { faultyStore, tick } from './faulty-store.js'
import { FEATURES, up } from './helpers.js'

const keys = (n: number, feature = 'score', t = 1000) =>
  Array.from({ length: n }, (_, i) => up(`u${i}`, feature, i, t, 1))

describe('batching', () => {
  it('sends full batches at once and the rest after lingerMs', async () => {
    const store = faultyStore(memoryStore())
    // A linger far above the ticks before it: on a loaded machine (or a cold first store call) 30 ms
    // passed before the second check and the rest went out early.
    const sink = onlineSink({ store, features: FEATURES, maxBatchSize: 10, lingerMs: 300 })
    expect(sink.write(keys(25))).toBeUndefined()
    await tick()
    expect(store.calls.map((c) => c.length)).toEqual([10, 10])
    await tick(10)
    expect(store.calls.length).toBe(2)
    await tick(400)
    expect(store.calls.map((c) => c.length)).toEqual([10, 10, 5])
    await sink.close()
  })

  it('flush() sends a partial batch without waiting for the linger time', async () => {
    const store = faultyStore(memoryStore())
    const sink = onlineSink({ store, features: FEATURES, lingerMs: 60_000 })
    sink.write(keys(3))
    const t0 = Date.now()
    await sink.flush()
    expect(Date.now() - t0).toBeLessThan(1000)
    expect(store.calls.map((c) => c.length)).toEqual([3])
    await sink.close()
  })

  it('bounds store calls in flight by maxInFlightBatches (batches, not events)', async () => {
    const store = faultyStore(memoryStore())
    store.hold()
    const sink = onlineSink({
      store,
      features: FEATURES,
      maxBatchSize: 5,
      maxInFlightBatches: 2,
      lingerMs: 0,
    })
    sink.write(keys(50))
    await tick()
    expect(store.inFlight).toBe(2)
    expect(sink.metrics().inFlightBatches).toBe(2)
    expect(sink.metrics().buffered).toBe(50)
    store.release()
    await sink.flush()
    expect(store.maxInFlight).toBe(2)
    expect(store.calls.length).toBe(10)
    expect(sink.metrics()).toMatchObject({ writes: 50, applied: 50, buffered: 0, inFlightBatches: 0 })
    await sink.close()
  })
})

describe('per-key order and coalescing', () => {
  it('keeps at most one write per key in flight; later updates coalesce into the pending key state', async () => {
    const store = faultyStore(memoryStore())
    const down = collectingSink<FeatureWrite>()
    const sink = onlineSink({ store, features: FEATURES, downstream: down, lingerMs: 0 })
    store.hold()
    sink.write([up('a', 'score', 1, 100, 1), up('b', 'score', 1, 100, 1)])
    await tick()
    expect(store.calls.length).toBe(1)
    sink.write([up('a', 'score', 2, 200, 2), up('a', 'score', 3, 300, 3), up('c', 'score', 1, 100, 1)])
    await tick()
    // 'c' is free and goes out at once; 'a' is busy: its newest update waits.
    expect(store.calls.map((c) => c.map((u) => `${u.entity}${u.value}`))).toEqual([['a1', 'b1'], ['c1']])
    store.release()
    await sink.flush()
    expect(store.calls[2]?.map((u) => `${u.entity}${u.value}`)).toEqual(['a3'])
    expect(sink.metrics()).toMatchObject({ updates: 5, writes: 4, coalesced: 1, applied: 4 })
    // The coalesced-away update (a=2) was never written and never sent downstream.
    expect(down.items.map((w) => `${w.entity}${w.value}`)).toEqual(['a1', 'b1', 'c1', 'a3'])
    await sink.close()
  })

  it('cas/additive coalescing keeps the greater (eventTime, version); upsert keeps the later arrival', async () => {
    const store = faultyStore(memoryStore())
    const sink = onlineSink({ store, features: FEATURES, lingerMs: 10_000 })
    sink.write([
      up('a', 'score', 3, 500, 2),
      up('a', 'score', 2, 400, 9),
      up('a', 'score', 1, 500, 1),
      up('a', 'label', 'first', 500, 2),
      up('a', 'label', 'second', 100, 1),
      up('a', 'clicks_5m', 5, 500, 3, 0),
      up('a', 'clicks_5m', 4, 400, 2, 0),
      up('a', 'clicks_5m', 1, 10, 1, 300_000),
    ])
    await sink.flush()
    const sent = store.calls.flat().map((u) => `${u.feature}=${u.value}`)
    expect(sent.sort()).toEqual(['clicks_5m=1', 'clicks_5m=5', 'label=second', 'score=3'])
    expect(sink.metrics().coalesced).toBe(4)
    await sink.close()
  })

  it('a newer update for a busy key is written after the in-flight one, never alongside it', async () => {
    const store = faultyStore(memoryStore())
    const sink = onlineSink({
      store,
      features: FEATURES,
      maxBatchSize: 2,
      lingerMs: 0,
      maxInFlightBatches: 8,
    })
    for (let i = 0; i < 20; i++) sink.write([up('hot', 'label', `v${i}`, i), up(`cold${i}`, 'label', 'x', i)])
    await sink.flush()
    for (const c of store.calls) {
      const ks = c.map((u) => `${u.entity}|${u.feature}`)
      expect(new Set(ks).size).toBe(ks.length)
    }
    expect(store.maxInFlight).toBeGreaterThan(1)
    const rows = await store.read(['hot'], [FEATURES[1] as never])
    expect(rows[0]?.[0]).toMatchObject({ kind: 'value', stored: { value: 'v19' } })
    await sink.close()
  })
})

describe('availableTime and downstream', () => {
  it('stamps availableTime with the clock at acknowledgement and forwards stale writes by default', async () => {
    const clock = manualClock(1_000)
    const store = faultyStore(memoryStore())
    store.onAnswer = () => clock.advance(7)
    const down = collectingSink<FeatureWrite>()
    const sink = onlineSink({ store, features: FEATURES, downstream: down, clock, lingerMs: 0 })
    sink.write([up('a', 'score', 1, 900, 1)])
    await sink.flush()
    sink.write([up('a', 'score', 0, 800, 1)])
    await sink.flush()
    expect(down.items).toEqual([
      {
        entity: 'a',
        feature: 'score',
        value: 1,
        eventTime: 900,
        version: 1,
        availableTime: 1007,
        outcome: 'applied',
      },
      {
        entity: 'a',
        feature: 'score',
        value: 0,
        eventTime: 800,
        version: 1,
        availableTime: 1014,
        outcome: 'stale',
      },
    ])
    const m = sink.metrics()
    expect(m).toMatchObject({ applied: 1, stale: 1 })
    expect(m.freshnessMs.count).toBe(1)
    expect(m.freshnessMs.max).toBe(107)
    expect(m.writeLatencyMs.count).toBe(2)
    await sink.close()
  })

  it('keeps tileStart on additive writes and drops stale writes downstream with forwardStale: false', async () => {
    const store = memoryStore()
    const down = collectingSink<FeatureWrite>()
    const sink = onlineSink({ store, features: FEATURES, downstream: down, forwardStale: false, lingerMs: 0 })
    sink.write([up('a', 'clicks_5m', 3, 10, 1, 0)])
    await sink.flush()
    sink.write([up('a', 'clicks_5m', 3, 10, 1, 0)])
    await sink.close()
    expect(down.items.length).toBe(1)
    expect(down.items[0]).toMatchObject({ tileStart: 0, outcome: 'applied' })
    expect(sink.metrics().stale).toBe(1)
  })
})
