/**
 * The changelog against a model: concurrent clients of one store, and a fast-check property over
 * random batches (cas, upsert, additive tiles; some applied with `changelog: false`) whose outcomes
 * and changelog are compared with a model of the write strategies.
 */
import assert from 'node:assert/strict'
import type { FeatureUpdate, FeatureValue, SourcePosition } from '@skewless/core'
import fc from 'fast-check'
import type { TestFn } from '../types.js'
import { assertLoggedByCall, keyOf, mine, readToEnd } from './changelog-helpers.js'
import {
  SUITE_FEATURES as F,
  featureMap,
  type OnlineStoreFactory,
  type OnlineStoreSuiteOptions,
  randomEntities,
  storeTest,
  upd,
} from './suite-shared.js'

const HOP = F.clicks.window.hopMs
const T = 28_333_333 * 60_000

interface Call {
  changelog: boolean
  writes: { e: number; f: number; tile: number; et: number; v: number; value: FeatureValue }[]
}

const valueArb = fc.oneof(
  fc.double(),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.integer({ min: -1000, max: 1000 }),
  fc.constant(null),
)

const planArb = fc.record({
  limit: fc.integer({ min: 1, max: 5 }),
  calls: fc.array(
    fc.record({
      changelog: fc.oneof(
        { weight: 4, arbitrary: fc.constant(true) },
        { weight: 1, arbitrary: fc.constant(false) },
      ),
      writes: fc.array(
        fc.record({
          e: fc.integer({ min: 0, max: 2 }),
          f: fc.integer({ min: 0, max: 2 }),
          tile: fc.integer({ min: 0, max: 2 }),
          et: fc.integer({ min: 0, max: 5 }),
          v: fc.integer({ min: 0, max: 2 }),
          value: valueArb,
        }),
        { minLength: 1, maxLength: 6 },
      ),
    }),
    { minLength: 1, maxLength: 8 },
  ),
})

/** The update a planned write stands for: score (cas, double), label (upsert, string), clicks (additive, int64). */
function toUpdate(entity: string, w: Call['writes'][number]): FeatureUpdate {
  const et = T + w.et
  if (w.f === 0) return upd(entity, F.score.name, typeof w.value === 'number' ? w.value : null, et, w.v)
  if (w.f === 1) return upd(entity, F.label.name, typeof w.value === 'string' ? w.value : null, et, w.v)
  const n = typeof w.value === 'number' && Number.isSafeInteger(w.value) ? w.value : 0
  // At most 3 tiles per hash: far below the prune threshold, so the model needs no pruning.
  return upd(entity, F.clicks.name, n, et, w.v, T + w.tile * HOP)
}

export function registerChangelogProperty(
  it: TestFn,
  factory: OnlineStoreFactory,
  options: OnlineStoreSuiteOptions,
): void {
  const t = storeTest(it, factory, options)

  t(
    'changelog: concurrent apply calls of several clients all land in the changelog exactly once',
    async (store) => {
      if (!store.capabilities.changelog) return
      const sibling = options.sibling ? await options.sibling(store) : store
      try {
        const { position: start } = await readToEnd(store, undefined, 10_000)
        const es = randomEntities(20)
        const fm = featureMap([F.score])
        const calls: FeatureUpdate[][] = []
        let n = 0
        for (let c = 0; c < 8; c++)
          calls.push(es.map((e) => upd(e, F.score.name, n++, T + ((n * 7919) % 13), c % 3)))
        const results = await Promise.all(
          calls.map((call, c) => (c % 2 === 0 ? store : sibling).apply(call, fm)),
        )
        const applied = calls.flatMap((call, c) =>
          call.filter((_, i) => results[c]?.outcomes[i] === 'applied'),
        )
        const log = mine((await readToEnd(store, start)).writes, es)
        assertLoggedByCall(log, [applied], options.changelogOrder)
        // Per key, the changelog's order is CAS order; its last write is what the store holds.
        const last = new Map<string, FeatureUpdate>()
        for (const w of log) {
          const prev = last.get(keyOf(w))
          if (prev) {
            assert.ok(
              w.eventTime > prev.eventTime || (w.eventTime === prev.eventTime && w.version > prev.version),
              `${w.entity}: logged ${w.eventTime}.${w.version} after ${prev.eventTime}.${prev.version}`,
            )
          }
          last.set(keyOf(w), w)
        }
        const rows = await store.read(es, [F.score])
        for (let i = 0; i < es.length; i++) {
          const row = rows[i]?.[0]
          assert.equal(
            row?.kind === 'value' ? row.stored.value : undefined,
            last.get(keyOf(upd(es[i] as string, F.score.name, 0, 0)))?.value,
          )
        }
      } finally {
        if (sibling !== store) await sibling.close()
      }
    },
  )

  t(
    'changelog: property: random batches → outcomes and changelog equal a model of the strategies',
    async (store) => {
      if (!store.capabilities.changelog) return
      if (!store.capabilities.cas || !store.capabilities.additive) return
      const fm = featureMap([F.score, F.label, F.clicks])
      let start: SourcePosition | undefined = (await readToEnd(store, undefined, 10_000)).position
      await fc.assert(
        fc.asyncProperty(planArb, async (plan) => {
          const es = randomEntities(3)
          const model = new Map<string, { et: number; v: number }>()
          const logs: FeatureUpdate[][] = []
          for (const call of plan.calls) {
            // At most one write per key per batch (the sink's guarantee): later duplicates are dropped.
            const seen = new Set<string>()
            const writes: FeatureUpdate[] = []
            for (const w of call.writes) {
              const u = toUpdate(es[w.e] as string, w)
              if (!seen.has(keyOf(u))) writes.push(u)
              seen.add(keyOf(u))
            }
            const want = writes.map((u) => {
              const cur = model.get(keyOf(u))
              const newer = !cur || u.eventTime > cur.et || (u.eventTime === cur.et && u.version > cur.v)
              if (u.feature === F.label.name || newer) {
                model.set(keyOf(u), { et: u.eventTime, v: u.version })
                return 'applied'
              }
              return 'stale'
            })
            const r = await store.apply(writes, fm, { changelog: call.changelog })
            assert.deepEqual(r.outcomes, want)
            logs.push(call.changelog ? writes.filter((_, i) => want[i] === 'applied') : [])
          }
          const read = await readToEnd(store, start, plan.limit)
          start = read.position
          assertLoggedByCall(mine(read.writes, es), logs, options.changelogOrder)
        }),
        { numRuns: options.changelogRuns ?? 30 },
      )
    },
  )
}
