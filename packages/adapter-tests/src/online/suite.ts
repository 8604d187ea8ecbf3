/**
 * The online-store conformance suite, in the style of keyv's test-suite: every `OnlineStore` adapter
 * runs it with vitest's `it` and a factory. Each test gets a fresh store and random entity keys;
 * capability groups (cas, additive, ttl, cluster, changelog) switch on from the store's declared capabilities.
 *
 * ```ts
 * import { onlineStoreSuite } from '@skewless/adapter-tests'
 * onlineStoreSuite(it, () => memoryStore(), { corruptKey: (s, e, f) => (s as MemoryStore).corrupt(e, f) })
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
  registerCoreTests(it, factory, options)
  registerCapabilityTests(it, factory, options)
  registerSinkTests(it, factory, options)
  registerChangelogTests(it, factory, options)
  registerTilePruneProperty(it, factory, options)
}
