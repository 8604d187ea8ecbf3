/** Conformance tests switched on by capabilities: cas, additive, ttl, cluster. */
import assert from 'node:assert/strict'
import { InvalidDefinitionError, manualClock } from '@skewless/core'
import { type OnlineFeatureConfig, type OnlineStore, onlineReader, onlineSink } from '@skewless/online-sink'
import type { TestFn } from '../types.js'
import {
  SUITE_FEATURES as F,
  featureMap,
  type OnlineStoreFactory,
  type OnlineStoreSuiteOptions,
  plain,
  randomEntities,
  registered,
  sleepMs,
  storeTest,
  upd,
} from './suite-shared.js'

const T = 28_333_333 * 60_000 // aligned to the minute (and to tiles)
const MIN = 60_000

export function registerCapabilityTests(
  it: TestFn,
  factory: OnlineStoreFactory,
  options: OnlineStoreSuiteOptions,
) {
  const t = storeTest(it, factory, options)
  /** Run `fn` when the store has `cap`; otherwise check the sink refuses `feature`'s strategy. */
  const gated = (
    cap: 'cas' | 'additive',
    feature: OnlineFeatureConfig,
    fn: (s: OnlineStore) => Promise<void>,
  ) => {
    return async (store: OnlineStore) => {
      if (store.capabilities[cap]) return fn(store)
      assert.throws(() => onlineSink({ store, features: [feature] }), InvalidDefinitionError)
    }
  }

  if (registered(options, 'cas')) {
    t(
      'cas: newer applied; older and equal (eventTime, version) stale; higher version at equal time applied',
      gated('cas', F.score, async (store) => {
        const [e] = randomEntities(1) as [string]
        const fm = featureMap([F.score])
        const step = async (value: number, et: number, v: number, expected: string) => {
          const r = await store.apply([upd(e, F.score.name, value, et, v)], fm)
          assert.deepEqual(r.outcomes, [expected], `write (${et}, ${v})`)
        }
        await step(1, T + 100, 3, 'applied')
        await step(2, T + 50, 9, 'stale') // older eventTime, whatever the version
        await step(3, T + 100, 3, 'stale') // equal: a replay
        await step(4, T + 100, 2, 'stale') // equal time, lower version
        await step(5, T + 100, 4, 'applied') // equal time, higher version
        await step(6, T + 101, 0, 'applied')
        const rows = await store.read([e], [F.score])
        assert.deepEqual(plain(rows[0]?.[0]), { value: 6, eventTime: T + 101, version: 0 })
      }),
    )

    t(
      'cas: outcomes are aligned with a mixed batch and stale writes leave values untouched',
      gated('cas', F.score, async (store) => {
        const es = randomEntities(6)
        const fm = featureMap([F.score, F.count])
        await store.apply(
          es.map((e, i) => upd(e, F.score.name, i, T + 1000, 5)),
          fm,
        )
        const batch = es.flatMap((e, i) => [
          upd(e, F.score.name, 100 + i, i % 2 === 0 ? T + 2000 : T + 500, 5),
          upd(e, F.count.name, i, T, 1),
        ])
        const r = await store.apply(batch, fm)
        assert.deepEqual(
          r.outcomes,
          es.flatMap((_, i) => [i % 2 === 0 ? 'applied' : 'stale', 'applied']),
        )
        const rows = await store.read(es, [F.score, F.count])
        for (let i = 0; i < es.length; i++) {
          assert.deepEqual(
            plain(rows[i]?.[0]),
            i % 2 === 0
              ? { value: 100 + i, eventTime: T + 2000, version: 5 }
              : { value: i, eventTime: T + 1000, version: 5 },
          )
          assert.deepEqual(plain(rows[i]?.[1]), { value: i, eventTime: T, version: 1 })
        }
      }),
    )
  }

  if (registered(options, 'additive')) {
    t(
      'additive: tiles kept per tileStart; the reader sums the window ending at the read time',
      gated('additive', F.clicks, async (store) => {
        const [e, other] = randomEntities(2) as [string, string]
        const fm = featureMap([F.clicks, F.tumble])
        // clicks: 5-minute window hopping by 1 minute; tiles at T, T+1m, ..., T+6m.
        const writes = []
        for (let k = 0; k <= 6; k++)
          writes.push(upd(e, F.clicks.name, k + 1, T + k * MIN + 10, k, T + k * MIN))
        const r = await store.apply(writes, fm)
        assert.deepEqual(
          r.outcomes,
          writes.map(() => 'applied'),
        )
        const clock = manualClock(T + 6 * MIN + 30_000)
        const reader = onlineReader({ store, features: [F.clicks, F.tumble], clock })
        // window at T+6.5m is [T+2m, T+7m): tiles 2..6 → 3+4+5+6+7.
        let v = await reader.get([e, other], [F.clicks.name, F.tumble.name])
        assert.deepEqual(v[0]?.values[F.clicks.name], {
          value: 25,
          eventTime: T + 6 * MIN + 10,
          ageMs: 29_990,
        })
        assert.equal(v[0]?.values[F.tumble.name], null, 'never written: null')
        assert.equal(v[1]?.values[F.clicks.name], null, 'no tile at all: null')
        clock.set(T + 9 * MIN) // window [T+5m, T+10m): tiles 5, 6
        v = await reader.get([e], [F.clicks.name])
        assert.equal(v[0]?.values[F.clicks.name]?.value, 13)
        clock.set(T + 11 * MIN + 1) // window [T+7m, T+12m): nothing left, decayed to 0
        v = await reader.get([e], [F.clicks.name])
        assert.deepEqual(v[0]?.values[F.clicks.name], { value: 0, eventTime: T + 11 * MIN, ageMs: 1 })
      }),
    )

    t(
      'additive: a replayed tile update counts once; a newer partial replaces the tile, an older one is stale',
      gated('additive', F.clicks, async (store) => {
        const [e] = randomEntities(1) as [string]
        const fm = featureMap([F.clicks])
        const a = upd(e, F.clicks.name, 2, T + 5, 1, T)
        const b = upd(e, F.clicks.name, 3, T + MIN + 5, 2, T + MIN)
        assert.deepEqual((await store.apply([a, b], fm)).outcomes, ['applied', 'applied'])
        assert.deepEqual((await store.apply([a, b], fm)).outcomes, ['stale', 'stale'], 'a replay is stale')
        const reader = onlineReader({ store, features: [F.clicks], clock: manualClock(T + 2 * MIN) })
        assert.equal((await reader.get([e], [F.clicks.name]))[0]?.values[F.clicks.name]?.value, 5)
        const a2 = upd(e, F.clicks.name, 7, T + 40, 3, T) // tile T grew to 7 (its full partial)
        const a0 = upd(e, F.clicks.name, 1, T + 1, 0, T) // an older partial of tile T
        assert.deepEqual((await store.apply([a2], fm)).outcomes, ['applied'])
        assert.deepEqual((await store.apply([a0], fm)).outcomes, ['stale'])
        assert.equal((await reader.get([e], [F.clicks.name]))[0]?.values[F.clicks.name]?.value, 10)
        const raw = await store.read([e], [F.clicks])
        assert.deepEqual(plain(raw[0]?.[0]), [
          { tileStart: T, value: 7, version: 3 },
          { tileStart: T + MIN, value: 3, version: 2 },
        ])
      }),
    )
  }

  if (registered(options, 'ttl')) {
    const ttlMs = options.physicalTtlMs ?? 150
    t('ttl: values expire physically after their TTL, and CAS still works across rewrites', async (store) => {
      if (!store.capabilities.ttl) {
        assert.equal(store.capabilities.ttl, false)
        return
      }
      const strategy = store.capabilities.cas ? 'cas' : 'upsert'
      const f: OnlineFeatureConfig = { name: 'sk_ephemeral', valueType: 'double', strategy, ttlMs }
      const fm = featureMap([f])
      const [e] = randomEntities(1) as [string]
      const now = Date.now()
      assert.deepEqual((await store.apply([upd(e, f.name, 1, now, 1)], fm)).outcomes, ['applied'])
      assert.deepEqual((await store.apply([upd(e, f.name, 2, now + 1, 1)], fm)).outcomes, ['applied'])
      if (strategy === 'cas') {
        assert.deepEqual((await store.apply([upd(e, f.name, 0, now - 1, 9)], fm)).outcomes, ['stale'])
      }
      assert.deepEqual(plain((await store.read([e], [f]))[0]?.[0]), {
        value: 2,
        eventTime: now + 1,
        version: 1,
      })
      const deadline = Date.now() + ttlMs * 20
      while ((await store.read([e], [f]))[0]?.[0]?.kind !== 'missing') {
        assert.ok(Date.now() < deadline, `value still stored ${ttlMs * 20} ms after its ${ttlMs} ms TTL`)
        await sleepMs(ttlMs / 2)
      }
      assert.ok(Date.now() >= now + ttlMs, 'expired before its TTL')
      const later = Date.now()
      assert.deepEqual((await store.apply([upd(e, f.name, 3, later, 0)], fm)).outcomes, ['applied'])
      assert.deepEqual(plain((await store.read([e], [f]))[0]?.[0]), {
        value: 3,
        eventTime: later,
        version: 0,
      })
    })
  }

  if (registered(options, 'ttl')) {
    const ttlMs = options.physicalTtlMs ?? 150
    t(
      'ttl: a feature without TTL outlives the TTL features of its entity, whichever feature list wrote them',
      async (store) => {
        if (!store.capabilities.ttl) return
        // Two sinks sharing the store, with different feature lists: one has a TTL feature, the
        // other a feature without TTL, for the same entity.
        const short: OnlineFeatureConfig = {
          name: 'sk_short',
          valueType: 'double',
          strategy: 'upsert',
          ttlMs,
        }
        const kept: OnlineFeatureConfig = { name: 'sk_kept', valueType: 'string', strategy: 'upsert' }
        const [e] = randomEntities(1) as [string]
        const now = Date.now()
        assert.deepEqual((await store.apply([upd(e, short.name, 1, now)], featureMap([short]))).outcomes, [
          'applied',
        ])
        assert.deepEqual((await store.apply([upd(e, kept.name, 'k', now)], featureMap([kept]))).outcomes, [
          'applied',
        ])
        // Long enough for the TTL feature to expire physically (stores with a shared entity
        // record, like Redis' hash, may keep it longer: physical expiry is never earlier).
        await sleepMs(ttlMs * 4)
        assert.deepEqual(plain((await store.read([e], [kept]))[0]?.[0]), {
          value: 'k',
          eventTime: now,
          version: 0,
        })
      },
    )
  }

  if (registered(options, 'ttl') && registered(options, 'additive')) {
    const ttlMs = options.physicalTtlMs ?? 150
    t(
      'ttl: additive tiles stay stored while a reader still sees the decayed 0, then expire',
      async (store) => {
        if (!store.capabilities.ttl || !store.capabilities.additive) return
        // The newest tile leaves the window at tileStart + size; the reader then serves 0 until the
        // TTL hides it at tileStart + size + ttl. Physical expiry must not come sooner (the reader
        // would serve null where the offline log says 0: skew), and must come.
        const sizeMs = Math.round(ttlMs / 2)
        const hopMs = Math.round(ttlMs / 4)
        const f: OnlineFeatureConfig = {
          name: 'sk_tiles_ttl',
          valueType: 'int64',
          strategy: 'additive',
          window: { kind: 'hopping', sizeMs, hopMs },
          ttlMs,
        }
        const fm = featureMap([f])
        const [e] = randomEntities(1) as [string]
        const now = Date.now()
        const tileStart = Math.floor(now / hopMs) * hopMs
        assert.deepEqual((await store.apply([upd(e, f.name, 4, now, 1, tileStart)], fm)).outcomes, [
          'applied',
        ])
        const readable = tileStart + sizeMs + ttlMs
        const deadline = readable + ttlMs * 20
        while ((await store.read([e], [f]))[0]?.[0]?.kind !== 'missing') {
          assert.ok(Date.now() < deadline, `tiles still stored ${ttlMs * 20} ms after the reader hides them`)
          await sleepMs(ttlMs / 4)
        }
        assert.ok(
          Date.now() >= readable,
          `tiles expired ${readable - Date.now()} ms before the reader's TTL hides their decayed 0`,
        )
      },
    )
  }

  if (registered(options, 'cluster')) {
    t('cluster: one batch and one read over many shards stay aligned', async (store) => {
      if (!store.capabilities.cluster) {
        assert.equal(store.capabilities.cluster, false)
        return
      }
      const es = randomEntities(1000, 'slot')
      const feats = [F.num, F.label]
      const writes = es.flatMap((e, i) => [
        upd(e, F.num.name, i, T + i, 0),
        upd(e, F.label.name, e, T + i, 0),
      ])
      const r = await store.apply(writes, featureMap(feats))
      assert.ok(r.outcomes.length === writes.length && r.outcomes.every((o) => o === 'applied'))
      const shuffled = es.filter((_, i) => i % 3 === 0).concat(es.filter((_, i) => i % 3 !== 0))
      const rows = await store.read(shuffled, [F.label, F.num])
      for (let k = 0; k < shuffled.length; k++) {
        const e = shuffled[k] as string
        assert.deepEqual(plain(rows[k]?.[0]), { value: e, eventTime: T + es.indexOf(e), version: 0 })
      }
    })
  }
}
