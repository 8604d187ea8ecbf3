import { collectingSink, type FeatureWrite } from '@skewless/core'
import { describe, expect, it } from 'vitest'
import {
  DownstreamError,
  memoryStore,
  type OnlineDeadLetter,
  type OnlineStore,
  onlineSink,
  StoreUnavailableError,
  StoreWriteError,
} from '../src/index.js'
import { corruptKey } from '../src/testing.js'
import { faultyStore, tick } from './faulty-store.js'
import { FEATURES, up } from './helpers.js'

const transient = () => new StoreUnavailableError('connection lost', { store: 'test' })
const fast = { minDelayMs: 1, maxDelayMs: 5 }

function setup(opts: Partial<Parameters<typeof onlineSink>[0]> = {}) {
  const store = faultyStore(memoryStore())
  const down = collectingSink<FeatureWrite>()
  const dead = collectingSink<OnlineDeadLetter>()
  const sink = onlineSink({
    store,
    features: FEATURES,
    downstream: down,
    deadLetters: dead,
    lingerMs: 0,
    ...opts,
  })
  return { store, down, dead, sink }
}

describe('retries', () => {
  it('retries transient failures with backoff until the batch lands, counting retries', async () => {
    const { store, down, dead, sink } = setup({ retry: fast })
    store.failNext(3, transient)
    sink.write([up('a', 'score', 1, 10, 1), up('b', 'score', 2, 10, 1)])
    await sink.flush()
    expect(store.calls.length).toBe(4)
    expect(sink.metrics()).toMatchObject({ retries: 3, writes: 2, applied: 2, deadLetters: 0 })
    expect(down.items.map((w) => w.outcome)).toEqual(['applied', 'applied'])
    expect(dead.items).toEqual([])
    await sink.close()
  })

  it('dead-letters a batch with retries-exhausted when retries run out', async () => {
    const { store, down, dead, sink } = setup({ retry: { ...fast, retries: 2 } })
    store.failNext(3, transient)
    sink.write([up('a', 'score', 1, 10, 1)])
    await sink.flush()
    expect(store.calls.length).toBe(3)
    expect(dead.items).toHaveLength(1)
    expect(dead.items[0]).toMatchObject({ code: 'retries-exhausted', update: { entity: 'a' } })
    expect(dead.items[0]?.message).toContain('connection lost')
    expect(down.items).toEqual([])
    expect(sink.metrics()).toMatchObject({ retries: 2, deadLetters: 1, applied: 0 })
    // the key is free again: a later update lands
    sink.write([up('a', 'score', 2, 20, 1)])
    await sink.close()
    expect(down.items.map((w) => w.value)).toEqual([2])
  })

  it('does not retry a permanent batch failure: every write is dead-lettered with its code', async () => {
    const { store, dead, sink } = setup({ retry: fast })
    store.failNext(1, () => new StoreWriteError('script-error', 'ERR Error running script'))
    store.failNext(1, () => new Error('something unexpected'))
    sink.write([up('a', 'score', 1, 10, 1), up('b', 'score', 1, 10, 1)])
    await sink.flush()
    sink.write([up('c', 'score', 1, 10, 1)])
    await sink.flush()
    expect(store.calls.length).toBe(2)
    expect(dead.items.map((d) => [d.update.entity, d.code])).toEqual([
      ['a', 'script-error'],
      ['b', 'script-error'],
      ['c', 'rejected'],
    ])
    expect(sink.metrics().retries).toBe(0)
    await sink.close()
  })

  it('times out a slow store call and retries it; the late first answer is ignored', async () => {
    const { store, down, sink } = setup({ retry: fast, timeoutMs: 20 })
    store.delayNext(1, 200)
    sink.write([up('a', 'score', 1, 10, 1)])
    await sink.flush()
    expect(sink.metrics().retries).toBe(1)
    // The slow call had landed already: the retry sees the same (eventTime, version) and reads it
    // back, so the write is reported applied (as the store holds it), not stale.
    expect(down.items.map((w) => w.outcome)).toEqual(['applied'])
    expect(sink.metrics()).toMatchObject({ applied: 1, stale: 0 })
    await sink.close()
  })

  it('a store that never answers: every attempt times out, then retries-exhausted', async () => {
    const never: OnlineStore = { ...memoryStore(), apply: () => new Promise(() => {}) }
    const dead = collectingSink<OnlineDeadLetter>()
    const sink = onlineSink({
      store: never,
      features: FEATURES,
      deadLetters: dead,
      timeoutMs: 5,
      retry: { retries: 3, minDelayMs: 1, maxDelayMs: 2 },
    })
    sink.write([up('a', 'score', 1, 10, 1)])
    await sink.close()
    expect(dead.items.map((d) => d.code)).toEqual(['retries-exhausted'])
    expect(dead.items[0]?.message).toMatch(/did not answer within 5 ms/)
    expect(sink.metrics()).toMatchObject({ retries: 3, applied: 0, deadLetters: 1 })
    expect(sink.metrics().writeLatencyMs.count).toBe(0)
  })

  it('reports a write applied when its acknowledgement was lost and the retry finds it stored', async () => {
    const { store, down, sink } = setup({ retry: fast })
    sink.write([up('z', 'score', 9, 5, 0)])
    await sink.flush()
    store.failAfterApplyNext(1, transient)
    sink.write([up('a', 'score', 1, 10, 1), up('a', 'clicks_5m', 2, 10, 1, 0), up('z', 'score', 0, 1, 0)])
    await sink.flush()
    expect(down.items.map((w) => `${w.entity}.${w.feature}:${w.outcome}`)).toEqual([
      'z.score:applied',
      'a.score:applied',
      'a.clicks_5m:applied',
      'z.score:stale', // genuinely stale: the store holds a newer one
    ])
    await sink.close()
  })
})

describe('review regressions', () => {
  it('a store read that hangs while a retry checks its stale outcomes times out like an apply', async () => {
    const inner = faultyStore(memoryStore())
    let reads = 0
    const store: OnlineStore = {
      ...inner,
      apply: (w, f) => inner.apply(w, f),
      read: () => {
        reads++
        return new Promise(() => {})
      },
    }
    const dead = collectingSink<OnlineDeadLetter>()
    const sink = onlineSink({
      store,
      features: FEATURES,
      deadLetters: dead,
      lingerMs: 0,
      timeoutMs: 10,
      retry: { retries: 2, minDelayMs: 1, maxDelayMs: 2 },
    })
    inner.failAfterApplyNext(1, transient)
    sink.write([up('a', 'score', 1, 10, 1)])
    const done = sink.flush().then(() => 'flushed')
    expect(await Promise.race([done, tick(500).then(() => 'hung')])).toBe('flushed')
    expect(reads).toBeGreaterThan(0)
    expect(dead.items.map((d) => d.code)).toEqual(['retries-exhausted'])
    await sink.close()
  })

  it('dead-letters additive updates whose tileStart is not finite instead of sending them', async () => {
    const { store, dead, sink } = setup()
    sink.write([
      up('a', 'clicks_5m', 1, 10, 1, Number.NaN),
      up('a', 'clicks_5m', 1, 10, 1, Number.POSITIVE_INFINITY),
      up('a', 'clicks_5m', 1, 10, 1, 0),
    ])
    await sink.flush()
    expect(dead.items.map((d) => d.code)).toEqual(['rejected', 'rejected'])
    expect(dead.items[0]?.message).toContain('tileStart NaN')
    expect(store.calls.flat().map((u) => u.tileStart)).toEqual([0])
    await sink.close()
  })

  it('a batch whose downstream and dead-letter output both fail leaves no unhandled rejection', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (e: unknown) => unhandled.push(e)
    process.on('unhandledRejection', onUnhandled)
    try {
      const failing = () => ({
        async write() {
          await tick(1)
          throw new Error('disk full')
        },
        async flush() {},
        async close() {},
      })
      const store = memoryStore()
      corruptKey(store, 'bad', 'score')
      const sink = onlineSink({
        store,
        features: FEATURES,
        downstream: failing(),
        deadLetters: failing(),
        lingerMs: 0,
      })
      sink.write([up('ok', 'score', 1, 10, 1), up('bad', 'score', 1, 10, 1)])
      await expect(sink.flush()).rejects.toThrow(DownstreamError)
      await tick(20)
      expect(unhandled).toEqual([])
      await expect(sink.close()).rejects.toThrow(DownstreamError)
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })
})

describe('dead letters', () => {
  it('dead-letters unknown features and additive updates without tileStart; the rest lands', async () => {
    const { down, dead, sink } = setup()
    sink.write([up('a', 'nope', 1, 10, 1), up('a', 'clicks_5m', 1, 10, 1), up('a', 'score', 1, 10, 1)])
    await sink.flush()
    expect(dead.items.map((d) => d.code)).toEqual(['unknown-feature', 'rejected'])
    expect(dead.items[0]?.message).toContain("'nope'")
    expect(down.items.map((w) => w.feature)).toEqual(['score'])
    expect(sink.metrics()).toMatchObject({ updates: 3, writes: 1, deadLetters: 2 })
    sink.write([
      up('a', 'score', 1, Number.NaN, 1),
      up('a', 'score', 1, 10, Number.POSITIVE_INFINITY),
      up(42 as never, 'score', 1, 10, 1),
    ])
    await sink.flush()
    expect(dead.items.slice(2).map((d) => d.code)).toEqual(['rejected', 'rejected', 'rejected'])
    expect(dead.items[2]?.message).toContain('eventTime NaN')
    await sink.close()
  })

  it('dead-letters a single write the store refuses (per-write outcome), and a wrong-typed value before the store call, and lands the rest', async () => {
    const store = memoryStore()
    corruptKey(store, 'bad', 'score')
    const dead = collectingSink<OnlineDeadLetter>()
    const down = collectingSink<FeatureWrite>()
    const sink = onlineSink({ store, features: FEATURES, downstream: down, deadLetters: dead })
    sink.write([
      up('ok1', 'score', 1, 10, 1),
      up('bad', 'score', 1, 10, 1),
      up('ok2', 'score', 'x' as never, 10, 1),
    ])
    await sink.close()
    expect(dead.items.map((d) => [d.update.entity, d.code])).toEqual([
      ['ok2', 'serialization'],
      ['bad', 'wrong-type'],
    ])
    expect(down.items.map((w) => w.entity)).toEqual(['ok1'])
  })

  it('without a dead-letter sink, dead letters are still counted', async () => {
    const sink = onlineSink({ store: memoryStore(), features: FEATURES })
    sink.write([up('a', 'nope', 1, 10, 1)])
    await sink.close()
    expect(sink.metrics().deadLetters).toBe(1)
  })
})

describe('backpressure', () => {
  it('returns a promise only when the buffer is full, resolved when the store catches up', async () => {
    const { store, sink } = setup({ maxBufferedUpdates: 10, maxBatchSize: 4, maxInFlightBatches: 1 })
    store.hold()
    expect(sink.write([up('a', 'score', 1, 10, 1), up('b', 'score', 1, 10, 1)])).toBeUndefined()
    const p = sink.write(Array.from({ length: 8 }, (_, i) => up(`k${i}`, 'score', 1, 10, 1)))
    expect(p).toBeInstanceOf(Promise)
    let done = false
    void (p as Promise<void>).then(() => {
      done = true
    })
    await tick(20)
    expect(done).toBe(false)
    expect(sink.metrics().buffered).toBe(10)
    store.release()
    await p
    expect(sink.metrics().buffered).toBeLessThan(10)
    await sink.close()
  })

  it('keeps memory bounded while the store is down: the writer waits instead of buffering', async () => {
    const { store, sink } = setup({ maxBufferedUpdates: 100, maxBatchSize: 10, retry: fast })
    store.failNext(30, transient)
    let maxBuffered = 0
    for (let i = 0; i < 50; i++) {
      const r = sink.write(Array.from({ length: 10 }, (_, j) => up(`k${i * 10 + j}`, 'score', 1, 10, 1)))
      maxBuffered = Math.max(maxBuffered, sink.metrics().buffered)
      if (r) await r
    }
    await sink.close()
    expect(maxBuffered).toBeLessThanOrEqual(100 + 10)
    expect(sink.metrics()).toMatchObject({ applied: 500, retries: 30 })
  })

  it("awaits the downstream's promise: a slow downstream slows the sink, and order is kept", async () => {
    const got: string[] = []
    let pending = 0
    let maxPending = 0
    const slow = {
      async write(batch: readonly FeatureWrite[]) {
        pending++
        maxPending = Math.max(maxPending, pending)
        await tick(3)
        for (const w of batch) got.push(`${w.entity}${w.value}`)
        pending--
      },
      flushed: 0,
      async flush() {
        this.flushed++
      },
      async close() {},
    }
    const sink = onlineSink({
      store: memoryStore(),
      features: FEATURES,
      downstream: slow,
      maxBatchSize: 2,
      lingerMs: 0,
      maxBufferedUpdates: 4,
    })
    for (let i = 0; i < 10; i++) {
      const r = sink.write([up('k', 'label', String(i), i, i)])
      if (r) await r
    }
    await sink.flush()
    expect(maxPending).toBe(1)
    expect(slow.flushed).toBe(1)
    const ks = got.map((g) => Number(g.slice(1)))
    expect([...ks].sort((a, b) => a - b)).toEqual(ks)
    expect(ks.at(-1)).toBe(9)
    await sink.close()
  })
})
