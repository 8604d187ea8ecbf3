// The online-store conformance suite and the CAS convergence property against a real redis-server.
import {
  onlineStorePropertySuite,
  onlineStoreSuite,
  type RedisServerHandle,
  startRedis,
} from '@skewless/adapter-tests'
import { type RedisStore, redisStore } from '@skewless/online-redis'
import { afterAll, beforeAll, it } from 'vitest'

let server: RedisServerHandle
beforeAll(async () => {
  server = await startRedis()
})
afterAll(async () => {
  await server?.stop()
})

// A small slack, so the suite's physical-expiry test sees keys expire within its wait.
const factory = () => redisStore({ url: server.url, expirySlackMs: 20 })

onlineStoreSuite(it, factory, {
  name: 'redis',
  capabilities: { cas: true, additive: true, ttl: true, cluster: false, durable: true },
  corruptKey: async (store, entity) => {
    const s = store as RedisStore
    await (s.getInstance() as unknown as { set(k: string, v: string): Promise<unknown> }).set(
      s.valueKey(entity),
      'not a hash',
    )
  },
})

onlineStorePropertySuite(it, factory, { name: 'redis', property: { numRuns: 40 } })
