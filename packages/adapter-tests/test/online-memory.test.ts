import { type MemoryStore, memoryStore } from '@skewless/online-sink'
import { it } from 'vitest'
import { onlineStorePropertySuite, onlineStoreSuite } from '../src/online/suite.js'

// The suite testing itself against the reference store.
onlineStoreSuite(it, () => memoryStore(), {
  name: 'memory',
  capabilities: { cas: true, additive: true, ttl: true, cluster: false, durable: false },
  corruptKey: (store, entity, feature) => (store as MemoryStore).corrupt(entity, feature),
})

onlineStorePropertySuite(it, () => memoryStore(), { name: 'memory', property: { numRuns: 60 } })
