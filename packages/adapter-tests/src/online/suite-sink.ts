/** Conformance tests of the sink end to end through a store, and of per-write permanent failures. */
import assert from 'node:assert/strict'
import { collectingSink, type FeatureUpdate, type FeatureWrite, manualClock } from '@skewless/core'
import { type OnlineDeadLetter, onlineSink } from '@skewless/online-sink'
import type { StoredEntry } from '@skewless/online-sink/adapter'
import type { TestFn } from '../types.js'
import {
  SUITE_FEATURES as F,
  featureMap,
  featuresFor,
  type OnlineStoreFactory,
  type OnlineStoreSuiteOptions,
  plain,
  randomEntities,
  storeTest,
  upd,
} from './suite-shared.js'

const T = 1_700_000_000_000

export function registerSinkTests(it: TestFn, factory: OnlineStoreFactory, options: OnlineStoreSuiteOptions) {
  const t = storeTest(it, factory, options)

  t(
    'sink end to end: downstream gets exactly the applied writes, in per-key order; the store holds the newest',
    async (store) => {
      const cas = store.capabilities.cas
      const f = cas ? F.score : F.num
      const feats = featuresFor(store.capabilities).filter(
        (x) => x.name === f.name || x.name === F.label.name,
      )
      const es = randomEntities(50)
      const clock = manualClock(T + 10_000)
      const down = collectingSink<FeatureWrite>()
      const sink = onlineSink({
        store,
        features: feats,
        downstream: down,
        clock,
        forwardStale: false,
        maxBatchSize: 64,
        maxInFlightBatches: 4,
      })
      // Out-of-order updates: per entity, versions 0..9 with event times shuffled deterministically.
      const updates: FeatureUpdate[] = []
      for (let round = 0; round < 10; round++) {
        for (let i = 0; i < es.length; i++) {
          const et = T + ((round * 7 + i) % 10) * 100
          updates.push(upd(es[i] as string, f.name, round * 1000 + i, et, round))
          updates.push(upd(es[i] as string, F.label.name, `r${round}`, et, round))
        }
      }
      for (let k = 0; k < updates.length; k += 37) {
        const r = sink.write(updates.slice(k, k + 37))
        if (r) await r
      }
      await sink.flush()
      const m = sink.metrics()
      assert.equal(m.updates, updates.length)
      assert.equal(m.updates, m.writes + m.coalesced, 'every update is written once or coalesced away')
      assert.equal(m.deadLetters, 0)
      assert.equal(
        down.items.length,
        m.applied,
        'downstream gets the applied writes only (forwardStale: false)',
      )
      assert.ok(down.items.every((w) => w.outcome === 'applied' && w.availableTime === T + 10_000))
      // Per key: the applied writes downstream are in the order the store applied them, so the last
      // one is what the store holds; for cas they are strictly increasing in (eventTime, version).
      const last = new Map<string, FeatureWrite>()
      for (const w of down.items) {
        const k = `${w.entity}|${w.feature}`
        const prev = last.get(k)
        if (prev && w.feature === f.name && cas) {
          assert.ok(
            w.eventTime > prev.eventTime || (w.eventTime === prev.eventTime && w.version > prev.version),
            `applied writes of ${k} must grow`,
          )
        }
        last.set(k, w)
      }
      const rows = await store.read(es, [f, F.label])
      for (let i = 0; i < es.length; i++) {
        for (let j = 0; j < 2; j++) {
          const w = last.get(`${es[i]}|${j === 0 ? f.name : F.label.name}`)
          assert.ok(w, 'every key has an applied write')
          assert.deepEqual(plain(rows[i]?.[j]), {
            value: w.value,
            eventTime: w.eventTime,
            version: w.version,
          })
        }
        const [casEntry, labelEntry] = rows[i] as StoredEntry[]
        assert.equal(
          labelEntry?.kind === 'value' && labelEntry.stored.value,
          'r9',
          'upsert: last arrival wins',
        )
        // cas: the newest (eventTime, version) of the entity, which has event time T + 900
        if (cas) assert.equal(casEntry?.kind === 'value' && casEntry.stored.eventTime, T + 900)
      }
      await sink.close()
      assert.equal(down.closed, true, 'close() closes downstream')
      const after = await store.read([es[0] as string], [f])
      assert.equal(after[0]?.[0]?.kind, 'value', 'close() does not close the store')
    },
  )

  const corrupt = options.corruptKey
  if (corrupt) {
    t('a permanent per-write failure does not fail the rest of the batch', async (store) => {
      const es = randomEntities(5)
      const f = store.capabilities.cas ? F.score : F.num
      await corrupt(store, es[2] as string, f.name)
      const r = await store.apply(
        es.map((e, i) => upd(e, f.name, i, T, 1)),
        featureMap([f]),
      )
      assert.equal(r.outcomes[0], 'applied')
      assert.equal(r.outcomes[1], 'applied')
      const bad = r.outcomes[2]
      assert.ok(
        typeof bad === 'object' && bad !== null,
        `corrupted key must fail alone, got ${JSON.stringify(bad)}`,
      )
      assert.equal(typeof bad.reason, 'string')
      assert.ok(bad.message.length > 0)
      assert.deepEqual(r.outcomes.slice(3), ['applied', 'applied'])
      const rows = await store.read([es[0] as string, es[4] as string], [f])
      assert.deepEqual(plain(rows[1]?.[0]), { value: 4, eventTime: T, version: 1 })
    })

    t(
      'sink: a permanently failing write goes to the dead-letter output, the rest lands downstream',
      async (store) => {
        const es = randomEntities(20)
        const f = store.capabilities.cas ? F.score : F.num
        await corrupt(store, es[7] as string, f.name)
        const down = collectingSink<FeatureWrite>()
        const dead = collectingSink<OnlineDeadLetter>()
        const sink = onlineSink({
          store,
          features: [f],
          downstream: down,
          deadLetters: dead,
          maxBatchSize: 100,
        })
        sink.write(es.map((e, i) => upd(e, f.name, i, T, 1)))
        await sink.close()
        assert.equal(dead.items.length, 1)
        assert.equal(dead.items[0]?.update.entity, es[7])
        assert.notEqual(dead.items[0]?.code, 'retries-exhausted')
        assert.equal(down.items.length, 19)
        assert.ok(down.items.every((w) => w.entity !== es[7] && w.outcome === 'applied'))
        const m = sink.metrics()
        assert.equal(m.deadLetters, 1)
        assert.equal(m.applied, 19)
      },
    )
  }
}
