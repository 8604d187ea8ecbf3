// flush() is a barrier: it waits for the updates written before it, never for later ones.
import { collectingSink, type FeatureUpdate, type FeatureWrite } from '@skewless/core'
import { isNewerVersion } from '@skewless/core/adapter'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ApplyResult } from '../src/adapter.js'
import {
  memoryStore,
  type OnlineFeatureConfig,
  type OnlineSink,
  type OnlineStore,
  onlineSink,
  StoreUnavailableError,
} from '../src/index.js'
import { faultyStore, tick } from './faulty-store.js'
import { up } from './helpers.js'

const T = Date.UTC(2026, 0, 1)
const score: OnlineFeatureConfig = { name: 'score', valueType: 'double', strategy: 'cas' }
const label: OnlineFeatureConfig = { name: 'label', valueType: 'double', strategy: 'upsert' }

/** `p`, or a rejection naming what did not happen within `ms` (so a starving flush fails fast). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)
  })
  return Promise.race([p, late]).finally(() => clearTimeout(timer))
}

/** A writer that keeps writing until stopped, one batch per timer tick; `make(n)` builds update n. */
function writer(sink: OnlineSink, make: (n: number) => FeatureUpdate, perTick: number) {
  let stopped = false
  let n = 0
  const done = (async () => {
    while (!stopped) {
      const batch: FeatureUpdate[] = []
      for (let i = 0; i < perTick; i++) batch.push(make(n++))
      const r = sink.write(batch)
      if (r) await r
      await tick(0)
    }
  })()
  return {
    get written() {
      return n
    },
    /** Write one more update now (ignored once stopped). */
    writeOne: () => {
      if (!stopped) void sink.write([make(n++)])
    },
    stop: () => {
      stopped = true
      return done
    },
  }
}

describe('flush() is a barrier', () => {
  it('resolves while another writer keeps writing new keys, once every earlier update landed', async () => {
    const store = faultyStore(memoryStore({ latencyMs: 2 }))
    const down = collectingSink<FeatureWrite>()
    const sink = onlineSink({ store, features: [score], downstream: down, maxBatchSize: 50 })
    const before = Array.from({ length: 200 }, (_, i) => up(`p${i}`, 'score', i, T + i, 1))
    sink.write(before)
    const w = writer(sink, (n) => up(`w${n}`, 'score', n, T + n, 1), 20)
    // Besides its loop, the writer writes whenever the store answers: the sink is never idle.
    store.onAnswer = () => w.writeOne()
    await tick(5)
    const writtenAtFlush = w.written
    await within(sink.flush(), 2000, 'flush() with a concurrent writer')
    const writtenAfter = w.written
    const rows = await store.read(
      before.map((u) => u.entity),
      [score],
    )
    expect(rows.every((r) => r[0]?.kind === 'value')).toBe(true)
    const logged = new Set(down.items.map((x) => x.entity))
    expect(before.every((u) => logged.has(u.entity))).toBe(true)
    await w.stop()
    await sink.close()
    expect(writtenAtFlush).toBeGreaterThan(0)
    expect(writtenAfter).toBeGreaterThan(writtenAtFlush) // the writer really ran during the flush
    expect(sink.metrics().applied).toBe(200 + w.written)
  })

  it('never waits for lingerMs; waits for a coalesced update through the newer update that replaced it', async () => {
    const inner = memoryStore()
    const held: (() => void)[] = []
    const store: OnlineStore = {
      ...inner,
      apply: async (writes, features): Promise<ApplyResult> => {
        await new Promise<void>((r) => held.push(r))
        return inner.apply(writes, features)
      },
    }
    const sink = onlineSink({ store, features: [score], lingerMs: 60_000 })
    const stored = async (entity: string) => {
      const e = (await inner.read([entity], [score]))[0]?.[0]
      return e?.kind === 'value' ? e.stored.eventTime - T : undefined
    }
    const state = { f1: false, f2: false }
    sink.write([up('hot', 'score', 1, T + 1, 1), up('a', 'score', 1, T + 1, 1)])
    const f1 = sink.flush().then(() => {
      state.f1 = true
    })
    await tick(1)
    expect(held.length).toBe(1) // [hot@1, a@1] at the store
    sink.write([up('hot', 'score', 2, T + 2, 1), up('b', 'score', 1, T + 1, 1)]) // after f1
    sink.write([up('hot', 'score', 3, T + 3, 1)]) // coalesces with hot@2 (pending: hot is busy)
    const f2 = sink.flush().then(() => {
      state.f2 = true
    })
    sink.write([up('hot', 'score', 4, T + 4, 1)]) // after f2, but replaces the pending hot@3 f2 waits for
    await tick(1)
    expect(held.length).toBe(2) // [b@1] went out at once; hot@4 waits for hot@1
    held[1]?.()
    await tick(1)
    expect(state).toEqual({ f1: false, f2: false }) // hot@1 and a@1 are still at the store
    held[0]?.()
    await within(f1, 1000, 'flush() after its writes were acknowledged')
    expect(await stored('hot')).toBe(1)
    expect(await stored('a')).toBe(1)
    await tick(1)
    expect(held.length).toBe(3) // hot@4 went out at once, without lingering
    expect(state.f2).toBe(false) // hot@3 was coalesced into hot@4, which is not acknowledged yet
    held[2]?.()
    await within(f2, 1000, 'the second flush()')
    expect(await stored('hot')).toBe(4)
    expect(sink.metrics()).toMatchObject({ updates: 6, writes: 4, coalesced: 2, applied: 4 })
    await sink.close()
  })

  it('property: once flush() resolved, the store holds each key at least as new as every update written before it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          keys: fc.integer({ min: 1, max: 12 }),
          perTick: fc.integer({ min: 1, max: 30 }),
          maxBatchSize: fc.integer({ min: 1, max: 16 }),
          maxInFlightBatches: fc.integer({ min: 1, max: 4 }),
          lingerMs: fc.constantFrom(0, 1, 5, 60_000),
          failRate: fc.constantFrom(0, 0.25),
          flushes: fc.integer({ min: 1, max: 3 }),
          seed: fc.integer(),
        }),
        async (o) => {
          const rand = mulberry32(o.seed)
          const inner = memoryStore()
          const store: OnlineStore = {
            ...inner,
            apply: async (writes, features) => {
              await tick(Math.floor(rand() * 3))
              if (rand() < o.failRate) throw new StoreUnavailableError('flaky', { store: 'test' })
              const res = await inner.apply(writes, features)
              w.writeOne() // a write at every answer: the sink is never idle while the writer runs
              return res
            },
          }
          const sink = onlineSink({
            store,
            features: [score, label],
            maxBatchSize: o.maxBatchSize,
            maxInFlightBatches: o.maxInFlightBatches,
            lingerMs: o.lingerMs,
            retry: { minDelayMs: 1, maxDelayMs: 4 },
          })
          // cas: the greatest (eventTime, version) written per key; upsert: the last value written.
          const newest = new Map<string, { eventTime: number; version: number }>()
          const last = new Map<string, number>()
          const w = writer(
            sink,
            (n) => {
              const entity = `k${Math.floor(rand() * o.keys)}`
              if (n % 2 === 0) {
                const u = up(entity, 'score', n, T + Math.floor(rand() * 1000), n)
                const p = newest.get(entity)
                if (!p || isNewerVersion(u.eventTime, u.version, p.eventTime, p.version))
                  newest.set(entity, u)
                return u
              }
              last.set(entity, n)
              return up(entity, 'label', n, T + n, n)
            },
            o.perTick,
          )
          try {
            for (let f = 0; f < o.flushes; f++) {
              await tick(Math.floor(rand() * 5))
              const casAt = new Map(newest)
              const upsertAt = new Map(last)
              await within(sink.flush(), 2000, `flush() ${f + 1} with a concurrent writer`)
              const casKeys = [...casAt.keys()]
              const casRows = await inner.read(casKeys, [score])
              casKeys.forEach((k, i) => {
                const e = casRows[i]?.[0]
                const want = casAt.get(k) as { eventTime: number; version: number }
                expect(e?.kind, k).toBe('value')
                if (e?.kind !== 'value') return
                expect(
                  isNewerVersion(want.eventTime, want.version, e.stored.eventTime, e.stored.version),
                  k,
                ).toBe(false)
              })
              const upKeys = [...upsertAt.keys()]
              const upRows = await inner.read(upKeys, [label])
              upKeys.forEach((k, i) => {
                const e = upRows[i]?.[0]
                expect(e?.kind, k).toBe('value')
                if (e?.kind === 'value')
                  expect(e.stored.value as number, k).toBeGreaterThanOrEqual(upsertAt.get(k) as number)
              })
            }
          } finally {
            await w.stop()
          }
          await sink.close()
          const m = sink.metrics()
          expect(m.updates).toBe(w.written)
          expect(m.writes + m.coalesced).toBe(m.updates)
          expect(m.applied + m.stale).toBe(m.writes)
        },
      ),
      { numRuns: 15, endOnFailure: true },
    )
  })
})

/** A small seeded PRNG, so a failing run replays with its seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
