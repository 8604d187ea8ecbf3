/**
 * The concurrency property every online store must keep, checked with fast-check: random
 * interleavings of out-of-order updates, written concurrently through several sinks (random batch
 * sizes, linger, in-flight limits) into one store whose calls are delayed at random, so batches of
 * different sinks reach the store and come back in arbitrary orders.
 *
 * Checked per key (entity, feature[, tile]):
 * - the final stored value is the update with the greatest (eventTime, version);
 * - the applied writes, in the order the store applied them, are strictly increasing (no applied
 *   write was ever older than the stored value at the time);
 * - the writes the sinks report `applied` downstream are exactly the ones the store applied.
 *
 * Application order is taken as the order of `apply` calls on the inner store, which holds for the
 * memory store and for one connection per shard (Redis processes a connection's commands in order).
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { collectingSink, type FeatureUpdate, type FeatureWrite } from '@skewless/core'
import {
  type OnlineDeadLetter,
  type OnlineFeatureConfig,
  type OnlineStore,
  onlineSink,
} from '@skewless/online-sink'
import type { StoredEntry } from '@skewless/online-sink/adapter'
import fc from 'fast-check'
import type { TestFn } from '../types.js'
import { SUITE_FEATURES as F, type OnlineStoreFactory, type OnlineStoreSuiteOptions } from './suite-shared.js'

/** Options of the CAS convergence property. */
export interface CasPropertyOptions {
  /** fast-check runs. @default 40 */
  numRuns?: number
  /** fast-check seed, to replay a failure. @default random */
  seed?: number
  /** Max random delay before and after each store call (ms). @default 3 */
  maxDelayMs?: number
}

interface Plan {
  entities: number
  updates: { e: number; tile: number; et: number; v: number; sink: number; additive: boolean }[]
  sinks: { batch: number; linger: number; maxBatch: number; inFlight: number }[]
  delays: number[]
}

const HOP = F.clicks.window.hopMs

function planArb(maxDelayMs: number, additive: boolean): fc.Arbitrary<Plan> {
  return fc.record({
    entities: fc.integer({ min: 1, max: 4 }),
    updates: fc.array(
      fc.record({
        e: fc.integer({ min: 0, max: 3 }),
        tile: fc.integer({ min: 0, max: 1 }),
        et: fc.integer({ min: 0, max: 6 }),
        v: fc.integer({ min: 0, max: 2 }),
        sink: fc.integer({ min: 0, max: 3 }),
        additive: additive ? fc.boolean() : fc.constant(false),
      }),
      { minLength: 1, maxLength: 120, size: 'max' },
    ),
    sinks: fc.array(
      fc.record({
        batch: fc.integer({ min: 1, max: 12 }),
        linger: fc.integer({ min: 0, max: 2 }),
        maxBatch: fc.integer({ min: 1, max: 8 }),
        inFlight: fc.integer({ min: 1, max: 4 }),
      }),
      { minLength: 2, maxLength: 4 },
    ),
    delays: fc.array(fc.integer({ min: 0, max: maxDelayMs }), { minLength: 1, maxLength: 16 }),
  })
}

/** Run the property against a store (the store is reused across runs; each run uses fresh entity keys). */
export async function checkCasConvergence(
  store: OnlineStore,
  options: CasPropertyOptions = {},
): Promise<void> {
  const additive = store.capabilities.additive
  const feats: OnlineFeatureConfig[] = additive ? [F.score, F.clicks] : [F.score]
  await fc.assert(
    fc.asyncProperty(planArb(options.maxDelayMs ?? 3, additive), (plan) => runPlan(store, feats, plan)),
    { numRuns: options.numRuns ?? 40, ...(options.seed === undefined ? {} : { seed: options.seed }) },
  )
}

async function runPlan(inner: OnlineStore, feats: OnlineFeatureConfig[], plan: Plan): Promise<void> {
  const prefix = randomUUID().slice(0, 8)
  const T = 1_700_000_000_000 - (1_700_000_000_000 % HOP)
  const toUpdate = (u: Plan['updates'][number]): FeatureUpdate => {
    const entity = `p-${prefix}-${u.e % plan.entities}`
    const eventTime = T + u.et
    // The value is a function of (eventTime, version): duplicates are identical replays.
    if (u.additive) {
      return {
        entity,
        feature: F.clicks.name,
        value: u.et * 10 + u.v,
        eventTime,
        version: u.v,
        tileStart: T + u.tile * HOP,
      }
    }
    return { entity, feature: F.score.name, value: u.et * 10 + u.v, eventTime, version: u.v }
  }
  const keyOf = (u: FeatureUpdate) => `${u.entity}|${u.feature}|${u.tileStart ?? ''}`

  // A store wrapper with random delays before and after each call, logging the application order.
  const applied: { seq: number; key: string; et: number; v: number }[] = []
  let calls = 0
  let d = 0
  const delay = () => {
    const ms = plan.delays[d++ % plan.delays.length] as number
    return ms === 0 ? Promise.resolve() : new Promise<void>((r) => setTimeout(r, ms))
  }
  const store: OnlineStore = {
    name: `delayed-${inner.name}`,
    capabilities: inner.capabilities,
    read: (e, f) => inner.read(e, f),
    close: async () => {},
    async apply(writes, features) {
      await delay()
      const seq = calls++
      const res = await inner.apply(writes, features)
      for (let i = 0; i < writes.length; i++) {
        const w = writes[i] as FeatureUpdate
        if (res.outcomes[i] === 'applied') applied.push({ seq, key: keyOf(w), et: w.eventTime, v: w.version })
      }
      await delay()
      return res
    },
  }

  const sinks = plan.sinks.map((o) => ({
    down: collectingSink<FeatureWrite>(),
    dead: collectingSink<OnlineDeadLetter>(),
    o,
  }))
  const running = sinks.map(async (s, si) => {
    const sink = onlineSink({
      store,
      features: feats,
      downstream: s.down,
      deadLetters: s.dead,
      lingerMs: s.o.linger,
      maxBatchSize: s.o.maxBatch,
      maxInFlightBatches: s.o.inFlight,
      maxBufferedUpdates: 16,
      retry: { minDelayMs: 1, maxDelayMs: 20 },
    })
    const mine = plan.updates.filter((u) => u.sink % sinks.length === si).map(toUpdate)
    for (let k = 0; k < mine.length; k += s.o.batch) {
      const r = sink.write(mine.slice(k, k + s.o.batch))
      if (r) await r
      if (k % 3 === 0) await delay()
    }
    await sink.close()
    const m = sink.metrics()
    assert.equal(m.updates, mine.length)
    assert.equal(m.writes + m.coalesced, m.updates)
  })
  await Promise.all(running)

  // 1. No dead letters; downstream "applied" is exactly what the store applied.
  for (const s of sinks) assert.deepEqual(s.dead.items, [])
  const down = sinks.flatMap((s) => s.down.items.filter((w) => w.outcome === 'applied'))
  const sig = (k: string, et: number, v: number) => `${k}@${et}.${v}`
  assert.deepEqual(
    down.map((w) => sig(keyOf(w), w.eventTime, w.version)).sort(),
    applied.map((a) => sig(a.key, a.et, a.v)).sort(),
  )
  // 2. Per key, applied writes strictly increase in application order.
  applied.sort((a, b) => a.seq - b.seq)
  const lastApplied = new Map<string, { et: number; v: number }>()
  for (const a of applied) {
    const prev = lastApplied.get(a.key)
    if (prev)
      assert.ok(
        a.et > prev.et || (a.et === prev.et && a.v > prev.v),
        `${a.key}: applied ${a.et}.${a.v} after ${prev.et}.${prev.v}`,
      )
    lastApplied.set(a.key, a)
  }
  // 3. Final state: the greatest (eventTime, version) of every key.
  const best = new Map<string, FeatureUpdate>()
  for (const u of plan.updates.map(toUpdate)) {
    const b = best.get(keyOf(u))
    if (!b || u.eventTime > b.eventTime || (u.eventTime === b.eventTime && u.version > b.version))
      best.set(keyOf(u), u)
  }
  const entities = [...new Set([...best.values()].map((u) => u.entity))]
  const rows = await inner.read(entities, feats)
  for (const u of best.values()) {
    const entry = rows[entities.indexOf(u.entity)]?.[
      feats.findIndex((f) => f.name === u.feature)
    ] as StoredEntry
    let got: { value: unknown; eventTime: number; version: number } | undefined
    if (entry?.kind === 'value') got = entry.stored
    else if (entry?.kind === 'tiles') got = entry.tiles.find((t) => t.tileStart === u.tileStart)
    assert.ok(got, `${keyOf(u)} missing from the store`)
    assert.deepEqual(
      { value: got.value, eventTime: got.eventTime, version: got.version },
      { value: u.value, eventTime: u.eventTime, version: u.version },
      `${keyOf(u)} final state`,
    )
  }
}

/** Register the property as one test. The store must have the `cas` capability (upsert has no order to keep). */
export function onlineStorePropertySuite(
  it: TestFn,
  factory: OnlineStoreFactory,
  options: OnlineStoreSuiteOptions & { property?: CasPropertyOptions } = {},
): void {
  const name = options.name ?? 'online store'
  it(
    `${name}: property: concurrent sinks, out-of-order updates, random delays → final state is the greatest (eventTime, version)`,
    async () => {
      const store = await factory()
      try {
        assert.ok(store.capabilities.cas, 'the CAS property needs a store with the cas capability')
        await checkCasConvergence(store, options.property)
      } finally {
        if (options.closeStore ?? true) await store.close()
      }
    },
    options.timeoutMs ?? 120_000,
  )
}
