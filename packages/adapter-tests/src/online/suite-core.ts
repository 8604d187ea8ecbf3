/** Conformance tests every online store passes, whatever its capabilities. */
import assert from 'node:assert/strict'
import { type FeatureValue, manualClock } from '@skewless/core'
import { type OnlineFeatureConfig, onlineReader } from '@skewless/online-sink'
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

export function registerCoreTests(it: TestFn, factory: OnlineStoreFactory, options: OnlineStoreSuiteOptions) {
  const t = storeTest(it, factory, options)

  t('read of a missing entity returns missing for every feature', async (store) => {
    const feats = featuresFor(store.capabilities)
    const [e] = randomEntities(1)
    const rows = await store.read([e as string], feats)
    assert.equal(rows.length, 1)
    assert.deepEqual(
      rows[0]?.map((x) => x.kind),
      feats.map(() => 'missing'),
    )
  })

  t('read of an unwritten feature of an existing entity returns missing', async (store) => {
    const [e] = randomEntities(1) as [string]
    const feats = [F.label, F.num]
    const r = await store.apply([upd(e, F.label.name, 'x', T)], featureMap(feats))
    assert.deepEqual(r.outcomes, ['applied'])
    const rows = await store.read([e], feats)
    assert.deepEqual(plain(rows[0]?.[0]), { value: 'x', eventTime: T, version: 0 })
    assert.equal(rows[0]?.[1]?.kind, 'missing')
  })

  t('upsert: the last write wins, even with an older eventTime', async (store) => {
    const [e] = randomEntities(1) as [string]
    const fm = featureMap([F.label])
    assert.deepEqual((await store.apply([upd(e, F.label.name, 'new', T + 10, 5)], fm)).outcomes, ['applied'])
    assert.deepEqual((await store.apply([upd(e, F.label.name, 'old', T, 1)], fm)).outcomes, ['applied'])
    const rows = await store.read([e], [F.label])
    assert.deepEqual(plain(rows[0]?.[0]), { value: 'old', eventTime: T, version: 1 })
  })

  t('values, event times and versions round-trip exactly for every value type', async (store) => {
    const cases: [OnlineFeatureConfig, FeatureValue][] = [
      [F.num, Math.PI],
      [F.num, -1.5e-300],
      [F.num, 1e300],
      [F.num, 0],
      [F.num, null],
      [F.big, Number.MAX_SAFE_INTEGER],
      [F.big, Number.MIN_SAFE_INTEGER],
      [F.big, -42],
      [F.big, null],
      [F.label, 'héllo wörld 🌍 中文 Ελληνικά'],
      [F.label, ''],
      [F.label, 'quote " backslash \\ newline \n tab \t'],
      [F.label, null],
      [F.flag, true],
      [F.flag, false],
      [F.flag, null],
    ]
    const es = randomEntities(cases.length)
    const writes = cases.map(([f, v], i) => upd(es[i] as string, f.name, v, T + i, 2 ** 40 + i))
    const fm = featureMap([F.num, F.big, F.label, F.flag])
    const r = await store.apply(writes, fm)
    assert.deepEqual(
      r.outcomes,
      writes.map(() => 'applied'),
    )
    for (let i = 0; i < cases.length; i++) {
      const [f, v] = cases[i] as [OnlineFeatureConfig, FeatureValue]
      const rows = await store.read([es[i] as string], [f])
      assert.deepEqual(
        plain(rows[0]?.[0]),
        { value: v, eventTime: T + i, version: 2 ** 40 + i },
        `${f.name} = ${JSON.stringify(v)}`,
      )
    }
  })

  t('a double -0 reads back as -0, as the offline log keeps it (upsert and cas)', async (store) => {
    const feats = store.capabilities.cas ? [F.num, F.score] : [F.num]
    const [e] = randomEntities(1) as [string]
    const r = await store.apply(
      feats.map((f) => upd(e, f.name, -0, T)),
      featureMap(feats),
    )
    assert.deepEqual(
      r.outcomes,
      feats.map(() => 'applied'),
    )
    const rows = await store.read([e], feats)
    for (let j = 0; j < feats.length; j++) {
      const entry = rows[0]?.[j]
      const read = entry?.kind === 'value' ? entry.stored.value : entry?.kind
      assert.ok(
        Object.is(read, -0),
        `${feats[j]?.name}: wrote -0, read ${Object.is(read, 0) ? '0' : String(read)}`,
      )
    }
  })

  t(
    'many keys in one batch: outcomes aligned, rows in entity order, columns in feature order',
    async (store) => {
      const es = randomEntities(300)
      const feats = [F.num, F.label]
      const writes = es.flatMap((e, i) => [
        upd(e, F.num.name, i, T + i, 1),
        upd(e, F.label.name, `v${i}`, T + i, 1),
      ])
      const r = await store.apply(writes, featureMap(feats))
      assert.equal(r.outcomes.length, writes.length)
      assert.ok(r.outcomes.every((o) => o === 'applied'))
      const reversed = [...es].reverse()
      const rows = await store.read(reversed, [F.label, F.num])
      assert.equal(rows.length, es.length)
      for (let k = 0; k < reversed.length; k++) {
        const i = es.length - 1 - k
        const row = rows[k] as StoredEntry[]
        assert.deepEqual(plain(row[0]), { value: `v${i}`, eventTime: T + i, version: 1 })
        assert.deepEqual(plain(row[1]), { value: i, eventTime: T + i, version: 1 })
      }
    },
  )

  t(
    'reader: one vector per entity with value, eventTime and ageMs; TTL filters on the read time',
    async (store) => {
      const now = Date.now()
      const clock = manualClock(now)
      const [a, b, c] = randomEntities(3) as [string, string, string]
      const feats = [F.fresh, F.label]
      await store.apply(
        [
          upd(a, F.fresh.name, 1.25, now - 1000, 1),
          upd(b, F.fresh.name, 2.5, now - 30_000, 1),
          upd(a, F.label.name, 'L', now - 5, 1),
        ],
        featureMap(feats),
      )
      const reader = onlineReader({ store, features: feats, clock })
      const v = await reader.get([a, b, c], [F.fresh.name, F.label.name])
      assert.deepEqual(
        v.map((x) => x.entity),
        [a, b, c],
      )
      assert.deepEqual(v[0]?.values[F.fresh.name], { value: 1.25, eventTime: now - 1000, ageMs: 1000 })
      assert.deepEqual(v[0]?.values[F.label.name], { value: 'L', eventTime: now - 5, ageMs: 5 })
      assert.deepEqual(v[1]?.values[F.fresh.name], { value: 2.5, eventTime: now - 30_000, ageMs: 30_000 })
      assert.equal(v[1]?.values[F.label.name], null)
      assert.equal(v[2]?.values[F.fresh.name], null)
      // ttlMs = 60 s: exactly 60 s old is served, 1 ms older is not, although the store still holds it.
      clock.set(now + 30_000)
      const w = await reader.get([a, b], [F.fresh.name])
      assert.equal(w[0]?.values[F.fresh.name]?.value, 1.25)
      assert.equal(w[1]?.values[F.fresh.name]?.ageMs, 60_000)
      clock.set(now + 30_001)
      const x = await reader.get([a, b], [F.fresh.name])
      assert.equal(x[0]?.values[F.fresh.name]?.value, 1.25)
      assert.equal(x[1]?.values[F.fresh.name], null)
      const raw = await store.read([b], [F.fresh])
      assert.equal(raw[0]?.[0]?.kind, 'value', 'the store still holds the value the reader hid')
    },
  )
}
