/** Shared pieces of the online-store suites: option types, feature configs, random keys, helpers. */
import { randomUUID } from 'node:crypto'
import { type FeatureUpdate, type FeatureValue, hopping, tumbling } from '@skewless/core'
import type { OnlineFeatureConfig, OnlineStore } from '@skewless/online-sink'
import type { OnlineStoreCapabilities, StoredEntry } from '@skewless/online-sink/adapter'
import type { TestFn } from '../types.js'

/** Creates a fresh store for one test (it may connect lazily). */
export type OnlineStoreFactory = () => OnlineStore | Promise<OnlineStore>

/** Options of `onlineStoreSuite` and `onlineStorePropertySuite`. */
export interface OnlineStoreSuiteOptions {
  /** Prefix of every test name. @default 'online store' */
  name?: string
  /**
   * Which capability groups to register. Unset fields are registered and checked at run time: a
   * group whose capability the store lacks then asserts that the sink refuses the strategy
   * (cas, additive) or that the flag is off (ttl, cluster).
   */
  capabilities?: Partial<OnlineStoreCapabilities>
  /**
   * Make (entity, feature) permanently unwritable, so its writes fail alone (Redis: `SET` the key to
   * a string so `HSET` fails with WRONGTYPE). Enables the per-write failure tests.
   */
  corruptKey?: (store: OnlineStore, entity: string, feature: string) => void | Promise<void>
  /** Call `store.close()` after each test. @default true */
  closeStore?: boolean
  /** TTL of the physical-expiry test (it waits about 3× this in wall time). @default 150 */
  physicalTtlMs?: number
  /** Per-test timeout passed to `it`. @default 30_000 */
  timeoutMs?: number
  /**
   * The store's own clock (ms), read before and after an `apply` to check the changelog's
   * `availableTime` (Redis: `TIME`). @default Date.now
   */
  storeTime?: (store: OnlineStore) => number | Promise<number>
  /**
   * Another client of the same data as `store` (Redis: a second `redisStore` on the same server, as
   * another process would have), for the concurrent changelog test; closed after it (unless it is
   * `store`). @default the store itself
   */
  sibling?: (store: OnlineStore) => OnlineStore | Promise<OnlineStore>
  /**
   * How the changelog orders writes: `'total'` (in apply-call order) or `'per-key'` (each key's
   * writes in apply order; calls on different keys may interleave, e.g. one stream per bucket).
   * @default 'total'
   */
  changelogOrder?: 'total' | 'per-key'
  /**
   * A store on the same data as `store` whose changelog is the one named `name` (Redis:
   * `changelog: { name }`), for the test that pipelines with their own named changelogs each read
   * only their own writes; closed after it. @default none: the test is not registered
   */
  namedChangelog?: (store: OnlineStore, name: string) => OnlineStore | Promise<OnlineStore>
  /** fast-check runs of the changelog property. @default 30 */
  changelogRuns?: number
  /** fast-check runs of the additive tile-pruning property. @default 40 */
  tilePruneRuns?: number
}

/** Feature configs every suite test uses (names are fixed; entities are random per test). */
export const SUITE_FEATURES = {
  score: { name: 'sk_score', valueType: 'double', strategy: 'cas' },
  count: { name: 'sk_count', valueType: 'int64', strategy: 'cas' },
  label: { name: 'sk_label', valueType: 'string', strategy: 'upsert' },
  flag: { name: 'sk_flag', valueType: 'bool', strategy: 'upsert' },
  num: { name: 'sk_num', valueType: 'double', strategy: 'upsert' },
  big: { name: 'sk_big', valueType: 'int64', strategy: 'upsert' },
  fresh: { name: 'sk_fresh', valueType: 'double', strategy: 'upsert', ttlMs: 60_000 },
  clicks: { name: 'sk_clicks_5m', valueType: 'int64', strategy: 'additive', window: hopping('5m', '1m') },
  tumble: { name: 'sk_views_1h', valueType: 'int64', strategy: 'additive', window: tumbling('1h') },
} satisfies Record<string, OnlineFeatureConfig>

/** Every suite feature. */
export const ALL_SUITE_FEATURES: OnlineFeatureConfig[] = Object.values(SUITE_FEATURES)

/** Features of the given strategies only (for stores without cas / additive). */
export function featuresFor(caps: OnlineStoreCapabilities): OnlineFeatureConfig[] {
  return ALL_SUITE_FEATURES.filter(
    (f) => (f.strategy !== 'cas' || caps.cas) && (f.strategy !== 'additive' || caps.additive),
  )
}

/** The features as the map `OnlineStore.apply` takes. */
export function featureMap(features: readonly OnlineFeatureConfig[]): Map<string, OnlineFeatureConfig> {
  return new Map(features.map((f) => [f.name, f]))
}

/** A random entity prefix: each test writes its own keys, so tests never see each other's data. */
export function randomEntities(n: number, tag = 'e'): string[] {
  const p = randomUUID().slice(0, 8)
  const out: string[] = []
  for (let i = 0; i < n; i++) out.push(`${tag}-${p}-${i}`)
  return out
}

/** Build an update. */
export function upd(
  entity: string,
  feature: string,
  value: FeatureValue,
  eventTime: number,
  version = 0,
  tileStart?: number,
): FeatureUpdate {
  const u: FeatureUpdate = { entity, feature, value, eventTime, version }
  if (tileStart !== undefined) u.tileStart = tileStart
  return u
}

/** `{value, eventTime, version}` of a stored single value, or the entry kind when it is not one. */
export function plain(e: StoredEntry | undefined): unknown {
  if (e === undefined) return 'undefined'
  if (e.kind === 'value')
    return { value: e.stored.value, eventTime: e.stored.eventTime, version: e.stored.version }
  if (e.kind === 'tiles')
    return e.tiles.map((t) => ({ tileStart: t.tileStart, value: t.value, version: t.version }))
  return 'missing'
}

/** Run `fn` with a fresh store, closing it afterwards. */
export async function withStore<T>(
  factory: OnlineStoreFactory,
  options: OnlineStoreSuiteOptions,
  fn: (store: OnlineStore) => Promise<T>,
): Promise<T> {
  const store = await factory()
  try {
    return await fn(store)
  } finally {
    if (options.closeStore ?? true) await store.close()
  }
}

/** Whether a capability group is registered: explicitly off → not registered. */
export function registered(options: OnlineStoreSuiteOptions, cap: keyof OnlineStoreCapabilities): boolean {
  return options.capabilities?.[cap] !== false
}

/** Resolve after `ms` of wall time. */
export function sleepMs(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/** The suite's test registrar: names the test after the store and runs it on a fresh store. */
export function storeTest(it: TestFn, factory: OnlineStoreFactory, options: OnlineStoreSuiteOptions) {
  const name = options.name ?? 'online store'
  return (title: string, fn: (store: OnlineStore) => Promise<void>) =>
    it(`${name}: ${title}`, () => withStore(factory, options, fn), options.timeoutMs ?? 30_000)
}
