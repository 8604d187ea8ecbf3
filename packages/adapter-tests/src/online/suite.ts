/**
 * The online-store conformance suite, in the style of keyv's test-suite: every `OnlineStore` adapter
 * runs it with vitest's `it` and a factory. Each test gets a fresh store and random entity keys;
 * capability groups (cas, additive, ttl, cluster, changelog) switch on from the store's declared capabilities.
 *
 * ```ts
 * import { onlineStoreSuite } from '@skewless/adapter-tests'
 * onlineStoreSuite(it, () => memoryStore(), { corruptKey: (s, e, f) => corruptKey(s as MemoryStore, e, f) })
 * ```
 */
import assert from 'node:assert/strict'
import type { TestFn } from '../types.js'
import { registerChangelogTests } from './suite-changelog.js'
import { registerCoreTests } from './suite-core.js'
import { registerCapabilityTests } from './suite-groups.js'
import type { OnlineStoreFactory, OnlineStoreSuiteOptions } from './suite-shared.js'
import { registerSinkTests } from './suite-sink.js'
import { registerTilePruneProperty } from './suite-tile-prune.js'

export { type CasPropertyOptions, checkCasConvergence, onlineStorePropertySuite } from './suite-property.js'
export {
  ALL_SUITE_FEATURES,
  type OnlineStoreFactory,
  type OnlineStoreSuiteOptions,
  SUITE_FEATURES,
  upd,
} from './suite-shared.js'

/**
 * Register the conformance tests of an online store.
 * @param it vitest's `it` (or `test`).
 * @param factory a fresh store per test.
 * @param options capability overrides, the `corruptKey` hook for per-write failures, timeouts.
 */
export function onlineStoreSuite(
  it: TestFn,
  factory: OnlineStoreFactory,
  options: OnlineStoreSuiteOptions = {},
): void {
  const name = options.name ?? 'online store'
  it(`${name}: declares its name and capabilities as data`, async () => {
    const store = await factory()
    try {
      assert.equal(typeof store.name, 'string')
      assert.ok(store.name.length > 0)
      for (const k of ['cas', 'additive', 'ttl', 'cluster', 'durable', 'changelog'] as const) {
        assert.equal(typeof store.capabilities[k], 'boolean', `capabilities.${k} must be a boolean`)
        const declared = options.capabilities?.[k]
        if (declared !== undefined) assert.equal(store.capabilities[k], declared, `capabilities.${k}`)
      }
    } finally {
      if (options.closeStore ?? true) await store.close()
    }
  })
  onlineStoreCoreTests(it, factory, options)
  onlineStoreCapabilityTests(it, factory, options)
  onlineStoreSinkTests(it, factory, options)
  onlineStoreChangelogTests(it, factory, options)
  onlineStoreTilePruneTests(it, factory, options)
}

// The groups of `onlineStoreSuite`, one by one (as keyv's `storageTtlTests`): an adapter under
// development, or one that runs a group against several configurations, registers only what it needs.

/** What every store supports: missing reads, upsert, exact round-trips, batch alignment, the reader over it. */
export function onlineStoreCoreTests(
  it: TestFn,
  factory: OnlineStoreFactory,
  options: OnlineStoreSuiteOptions = {},
) {
  registerCoreTests(it, factory, options)
}

/** The groups a store's declared capabilities switch on: cas, additive tiles, ttl, cluster. */
export function onlineStoreCapabilityTests(
  it: TestFn,
  factory: OnlineStoreFactory,
  options: OnlineStoreSuiteOptions = {},
) {
  registerCapabilityTests(it, factory, options)
}

/** The store behind a real `onlineSink`: exactly the applied writes go downstream; a per-write failure (`corruptKey`) is dead-lettered without failing the batch. */
export function onlineStoreSinkTests(
  it: TestFn,
  factory: OnlineStoreFactory,
  options: OnlineStoreSuiteOptions = {},
) {
  registerSinkTests(it, factory, options)
}

/** The changelog (`capabilities.changelog`): applied writes once in order, round-trips, reads up to a head, pages, trim, named changelogs. */
export function onlineStoreChangelogTests(
  it: TestFn,
  factory: OnlineStoreFactory,
  options: OnlineStoreSuiteOptions = {},
) {
  registerChangelogTests(it, factory, options)
}

/** Property (additive stores): tiles overtaking each other and pruned on the way never change a value served. */
export function onlineStoreTilePruneTests(
  it: TestFn,
  factory: OnlineStoreFactory,
  options: OnlineStoreSuiteOptions = {},
) {
  registerTilePruneProperty(it, factory, options)
}
