import { type MemoryStore, memoryStore } from '@skewless/online-sink'
import { corruptKey } from '@skewless/online-sink/testing'
import { it } from 'vitest'
import { onlineStorePropertySuite, onlineStoreSuite } from '../src/online/suite.js'

// The suite testing itself against the reference store (with its changelog on, so the changelog
// group runs; without it, that group checks the store offers no changelog).
onlineStoreSuite(it, () => memoryStore({ changelog: true }), {
  name: 'memory',
  capabilities: { cas: true, additive: true, ttl: true, cluster: false, durable: false, changelog: true },
  corruptKey: (store, entity, feature) => corruptKey(store as MemoryStore, entity, feature),
})

onlineStorePropertySuite(it, () => memoryStore(), { name: 'memory', property: { numRuns: 60 } })
