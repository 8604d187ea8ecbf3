/**
 * Conformance tests of the `changelog` capability: every write `apply` applies is in the store's
 * changelog exactly once, in apply order per key, with the store's time of the atomic step as its
 * `availableTime`; `changelog: false` writes are not; pages, trims, concurrent clients.
 * A store without the capability must not offer `readChangelog` / `trimChangelog`.
 */
import assert from 'node:assert/strict'
import type { FeatureUpdate, FeatureValue, FeatureWrite, SourcePosition } from '@skewless/core'
import type { OnlineFeatureConfig, OnlineStore } from '@skewless/online-sink'
import type { TestFn } from '../types.js'
import { assertLoggedByCall, keyOf, logged, mine, readToEnd, withoutTime } from './changelog-helpers.js'
import { registerChangelogProperty } from './suite-changelog-property.js'
import {
  SUITE_FEATURES as F,
  featureMap,
  type OnlineStoreFactory,
  type OnlineStoreSuiteOptions,
  randomEntities,
  registered,
  storeTest,
  upd,
} from './suite-shared.js'

const T = 28_333_333 * 60_000 // aligned to the minute (and to tiles)
const MIN = 60_000

/** The writes of `writes` whose outcome is `applied`. */
function appliedOf(writes: readonly FeatureUpdate[], outcomes: readonly unknown[]): FeatureUpdate[] {
  return writes.filter((_, i) => outcomes[i] === 'applied')
}

export function registerChangelogTests(
  it: TestFn,
  factory: OnlineStoreFactory,
  options: OnlineStoreSuiteOptions,
): void {
  if (!registered(options, 'changelog')) return
  const t = storeTest(it, factory, options)
  /** Run `fn` with the changelog's end position when the store has the capability; else check it offers none. */
  const gated = (fn: (s: OnlineStore, start: SourcePosition | undefined) => Promise<void>) => {
    return async (store: OnlineStore) => {
      if (!store.capabilities.changelog) {
        assert.equal(store.readChangelog, undefined, 'no changelog capability: no readChangelog')
        assert.equal(store.trimChangelog, undefined, 'no changelog capability: no trimChangelog')
        return
      }
      const { position } = await readToEnd(store, undefined, 10_000)
      await fn(store, position)
    }
  }
  const featsOf = (store: OnlineStore): OnlineFeatureConfig[] =>
    [F.score, F.label, F.clicks].filter(
      (f) =>
        (f.strategy !== 'cas' || store.capabilities.cas) &&
        (f.strategy !== 'additive' || store.capabilities.additive),
    )

  t(
    'changelog: exactly the applied writes appear, once, in apply order per key; stale ones never',
    gated(async (store, start) => {
      const es = randomEntities(3) as [string, string, string]
      const feats = featsOf(store)
      const fm = featureMap(feats)
      const has = (f: OnlineFeatureConfig) => feats.includes(f)
      const calls: FeatureUpdate[][] = [
        [
          upd(es[0], F.score.name, 1, T + 10),
          upd(es[0], F.label.name, 'a', T),
          upd(es[0], F.clicks.name, 3, T + 5, 0, T),
          upd(es[1], F.score.name, 5, T + 20),
        ],
        [
          upd(es[0], F.score.name, 2, T + 5), // stale
          upd(es[0], F.label.name, 'b', T - 1), // upsert: applied although older
          upd(es[0], F.clicks.name, 2, T + 4, 0, T), // stale
          upd(es[1], F.score.name, 6, T + 20, 1),
        ],
        [
          upd(es[0], F.score.name, 3, T + 11),
          upd(es[0], F.clicks.name, 4, T + 6, 0, T),
          upd(es[0], F.clicks.name, 1, T + MIN, 0, T + MIN),
          upd(es[2], F.score.name, 7, T),
          upd(es[1], F.score.name, 6, T + 20, 1), // a replay: stale
        ],
      ].map((c) => c.filter((w) => has(feats.find((f) => f.name === w.feature) ?? F.count)))
      const expected = [
        ['applied', 'applied', 'applied', 'applied'],
        ['stale', 'applied', 'stale', 'applied'],
        ['applied', 'applied', 'applied', 'applied', 'stale'],
      ]
      const applied: FeatureUpdate[][] = []
      for (let c = 0; c < calls.length; c++) {
        const call = calls[c] as FeatureUpdate[]
        const r = await store.apply(call, fm)
        if (store.capabilities.cas && store.capabilities.additive) {
          assert.deepEqual(r.outcomes, expected[c], `outcomes of call ${c}`)
        }
        applied.push(appliedOf(call, r.outcomes))
      }
      const log = mine((await readToEnd(store, start)).writes, es)
      assertLoggedByCall(log, applied, options.changelogOrder)
      // Per key, the changelog's order is the order of application.
      const perKey = new Map<string, unknown[]>()
      for (const w of log) perKey.set(keyOf(w), [...(perKey.get(keyOf(w)) ?? []), w.value])
      if (has(F.score)) assert.deepEqual(perKey.get(keyOf(upd(es[0], F.score.name, 0, 0))), [1, 3])
      assert.deepEqual(perKey.get(keyOf(upd(es[0], F.label.name, 0, 0))), ['a', 'b'])
      if (has(F.clicks)) assert.deepEqual(perKey.get(keyOf(upd(es[0], F.clicks.name, 0, 0, 0, T))), [3, 4])
    }),
  )

  t(
    'changelog: values, event times, versions and tile starts round-trip exactly',
    gated(async (store, start) => {
      const cases: [OnlineFeatureConfig, FeatureValue][] = [
        [F.num, -0],
        [F.num, Number.NaN],
        [F.num, Number.POSITIVE_INFINITY],
        [F.num, Number.NEGATIVE_INFINITY],
        [F.num, 1e300],
        [F.num, -1.5e-300],
        [F.num, 5e-324],
        [F.num, Math.PI],
        [F.num, null],
        [F.big, Number.MAX_SAFE_INTEGER],
        [F.big, Number.MIN_SAFE_INTEGER],
        [F.big, null],
        [F.label, ''],
        [F.label, 'a,b\n"\\ \t 1,2,d3'],
        [F.label, 'héllo 🌍 中文 Ελληνικά \u0000 \u{10ffff}'],
        [F.label, null],
        [F.flag, true],
        [F.flag, false],
        [F.flag, null],
      ]
      const base = randomEntities(1)[0] as string
      // Entities that look like key syntax or an entry's own separators.
      const names = ['}:t:sk_label{', ',1,2', '🌍 é\n', '{x}', 'v3', 't1,']
      const entity = (i: number) => `${base}${names[i % names.length]}${i}`
      const writes = cases.map(([f, v], i) => upd(entity(i), f.name, v, T + i + 0.5, 2 ** 40 + i))
      const feats: OnlineFeatureConfig[] = [F.num, F.big, F.label, F.flag]
      if (store.capabilities.additive) {
        feats.push(F.clicks)
        writes.push(upd(entity(cases.length), F.clicks.name, 41, T + 7, 3, T))
        writes.push(upd(entity(cases.length), F.clicks.name, -2, T + MIN + 1, 0, T + MIN))
      }
      const r = await store.apply(writes, featureMap(feats))
      assert.deepEqual(
        r.outcomes,
        writes.map(() => 'applied'),
      )
      const log = mine(
        (await readToEnd(store, start)).writes,
        writes.map((w) => w.entity),
      )
      assertLoggedByCall(log, [writes], options.changelogOrder)
      for (const w of log)
        assert.deepStrictEqual(
          withoutTime(w),
          logged(writes.find((x) => keyOf(x) === keyOf(w)) as FeatureUpdate),
        )
    }),
  )

  t(
    "changelog: availableTime is the store's clock at the atomic step (between before and 1 ms after apply)",
    gated(async (store, start) => {
      const now = options.storeTime ?? (() => Date.now())
      const es = randomEntities(50)
      const calls: [number, number, FeatureUpdate[]][] = []
      for (let c = 0; c < 3; c++) {
        const writes = es.map((e, i) => upd(e, F.label.name, `${c}.${i}`, T + c))
        const before = await now(store)
        await store.apply(writes, featureMap([F.label]))
        calls.push([before, await now(store), writes])
      }
      const log = mine((await readToEnd(store, start)).writes, es)
      assertLoggedByCall(
        log,
        calls.map(([, , w]) => w),
        options.changelogOrder,
      )
      for (let k = 0; k < log.length; k++) {
        // The call that wrote it, by its value `<call>.<i>` (per-key stores may interleave calls).
        const c = Number(String((log[k] as FeatureWrite).value).split('.')[0])
        const [before, after] = calls[c] as [number, number, FeatureUpdate[]]
        const at = (log[k] as FeatureWrite).availableTime
        // An upper bound of when the write became readable: at most the next ms after the apply
        // returned (a store with a ms clock rounds up, see online-redis changelog-codec.ts).
        assert.ok(before <= at && at <= after + 1, `availableTime ${at} is outside [${before}, ${after} + 1]`)
      }
    }),
  )

  t(
    'changelog: writes applied with { changelog: false } are applied but not logged',
    gated(async (store, start) => {
      const [e] = randomEntities(1) as [string]
      const fm = featureMap([F.label])
      const quiet = [upd(e, F.label.name, 'quiet', T)]
      assert.deepEqual((await store.apply(quiet, fm, { changelog: false })).outcomes, ['applied'])
      const loud = [upd(e, F.label.name, 'loud', T + 1)]
      assert.deepEqual((await store.apply(loud, fm, { changelog: true })).outcomes, ['applied'])
      const rows = await store.read([e], [F.label])
      assert.equal(rows[0]?.[0]?.kind === 'value' ? rows[0][0].stored.value : undefined, 'loud')
      assertLoggedByCall(mine((await readToEnd(store, start)).writes, [e]), [loud], options.changelogOrder)
    }),
  )

  registerPagingAndTrimTests(t, options)
  registerNamedChangelogTest(t, options)
  registerChangelogProperty(it, factory, options)
}

function registerPagingAndTrimTests(
  t: (title: string, fn: (store: OnlineStore) => Promise<void>) => void,
  options: OnlineStoreSuiteOptions,
): void {
  t('changelog: reading up to changelogHead() stops there while writes go on', async (store) => {
    if (!store.capabilities.changelog) return
    assert.ok(store.changelogHead, 'a changelog store has changelogHead')
    const { position: start } = await readToEnd(store, undefined, 10_000)
    const es = randomEntities(9)
    const write = (from: number, to: number) =>
      store.apply(
        es.slice(from, to).map((e) => upd(e, F.label.name, e, T)),
        featureMap([F.label]),
      )
    await write(0, 3)
    await write(3, 5)
    const head = await store.changelogHead()
    assert.notEqual(head, undefined, 'a changelog with writes has a head')
    await write(5, 9) // after the head: a read bounded by it never returns these
    for (const limit of [1, 2, 1000]) {
      const got: FeatureWrite[] = []
      let position = start
      for (let k = 0; k < 1000; k++) {
        const page = await (store.readChangelog as NonNullable<OnlineStore['readChangelog']>)(position, {
          limit,
          upTo: head as SourcePosition,
        })
        got.push(...page.writes)
        position = page.position
        if (page.end) break
        assert.ok(page.writes.length > 0, 'a page before the bound holds writes')
      }
      assert.deepStrictEqual(
        mine(got, es)
          .map((w) => w.entity)
          .sort(),
        es.slice(0, 5).sort(),
        `limit ${limit}: exactly the writes up to the head`,
      )
    }
    // The rest is still there for an unbounded read.
    assert.equal(mine((await readToEnd(store, start)).writes, es).length, 9)
  })

  t('changelog: pages of `limit` writes chain by position and end at the end', async (store) => {
    if (!store.capabilities.changelog) return
    const { position: start } = await readToEnd(store, undefined, 10_000)
    const es = randomEntities(7)
    const sizes = [1, 4, 2]
    let at = 0
    for (const n of sizes) {
      await store.apply(
        es.slice(at, at + n).map((e) => upd(e, F.label.name, e, T)),
        featureMap([F.label]),
      )
      at += n
    }
    const all = (await readToEnd(store, start, 1000)).writes
    for (const limit of [1, 2, 3, 5]) {
      const { writes, pages } = await readToEnd(store, start, limit)
      assert.deepStrictEqual(writes, all, `pages of ${limit} read what one page reads`)
      for (const p of pages)
        assert.ok(p.length <= limit + 3, `a page of limit ${limit} held ${p.length} writes`)
    }
    assert.equal(mine(all, es).length, 7)
    // Reading at the end: nothing, same position, end.
    const end = await readToEnd(store, start)
    const again = await store.readChangelog?.(end.position, { limit: 5 })
    assert.deepStrictEqual(again, { writes: [], position: end.position, end: true })
  })

  t(
    'changelog: trim forgets the writes up to a position; a read after a trimmed position starts at the oldest kept',
    async (store) => {
      if (!store.capabilities.changelog) return
      const { position: start } = await readToEnd(store, undefined, 10_000)
      const es = randomEntities(4) as [string, string, string, string]
      const fm = featureMap([F.label])
      const a = [upd(es[0], F.label.name, 'a0', T), upd(es[1], F.label.name, 'a1', T)]
      const b = [upd(es[2], F.label.name, 'b2', T), upd(es[3], F.label.name, 'b3', T)]
      await store.apply(a, fm)
      // A later ms, so a store whose changelog merges several streams by clock reads b after a.
      await new Promise((r) => setTimeout(r, 3))
      await store.apply(b, fm)
      // The position right after a's writes.
      let pos = start
      let seen = 0
      while (seen < 2) {
        const page = await store.readChangelog?.(pos, { limit: 1 })
        assert.ok(page && page.writes.length > 0)
        seen += page.writes.length
        pos = page.position
      }
      assert.equal(seen, 2, "one apply call's writes end a page")
      await store.trimChangelog?.(pos as SourcePosition)
      await store.trimChangelog?.(pos as SourcePosition) // again: nothing more goes
      assertLoggedByCall(mine((await readToEnd(store, undefined)).writes, es), [b], options.changelogOrder)
      assertLoggedByCall(mine((await readToEnd(store, start)).writes, es), [b], options.changelogOrder)
      const end = (await readToEnd(store, pos)).position
      await store.trimChangelog?.(end as SourcePosition)
      assert.deepEqual(mine((await readToEnd(store, undefined)).writes, es), [])
      // A write after a trim of everything is logged at a later position.
      const c = [upd(es[0], F.label.name, 'c0', T + 1)]
      await store.apply(c, fm)
      assertLoggedByCall(mine((await readToEnd(store, end)).writes, es), [c], options.changelogOrder)
    },
  )
}

function registerNamedChangelogTest(
  t: (title: string, fn: (store: OnlineStore) => Promise<void>) => void,
  options: OnlineStoreSuiteOptions,
): void {
  const named = options.namedChangelog
  if (named === undefined) return
  t(
    'changelog: named changelogs on one store each hold only their own writes, and trim alone',
    async (store) => {
      if (!store.capabilities.changelog) return
      const suffix =
        randomEntities(1)[0]
          ?.replace(/[^A-Za-z0-9]/g, '')
          .slice(0, 12) ?? 'x'
      const [a, b] = [await named(store, `a${suffix}`), await named(store, `b${suffix}`)]
      try {
        const { position: start } = await readToEnd(store, undefined, 10_000)
        const es = randomEntities(8)
        const fm = featureMap([F.label])
        const wa = es.slice(0, 5).map((e) => upd(e, F.label.name, `a-${e}`, T))
        const wb = es.slice(5).map((e) => upd(e, F.label.name, `b-${e}`, T))
        await a.apply(wa, fm)
        await b.apply(wb, fm)
        const ra = await readToEnd(a, undefined)
        assertLoggedByCall(mine(ra.writes, es), [wa], options.changelogOrder)
        assertLoggedByCall(mine((await readToEnd(b, undefined)).writes, es), [wb], options.changelogOrder)
        // The store's own (unnamed) changelog has neither; every client reads the same data.
        assert.deepEqual(mine((await readToEnd(store, start)).writes, es), [])
        const rows = await store.read([es[0] as string, es[7] as string], [F.label])
        assert.deepEqual(
          rows.map((r) => (r[0]?.kind === 'value' ? r[0].stored.value : undefined)),
          [`a-${es[0]}`, `b-${es[7]}`],
        )
        await a.trimChangelog?.(ra.position as SourcePosition)
        assert.deepEqual(mine((await readToEnd(a, undefined)).writes, es), [])
        assert.equal(mine((await readToEnd(b, undefined)).writes, es).length, 3)
      } finally {
        await a.close()
        await b.close()
      }
    },
  )
}
