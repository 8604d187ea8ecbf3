// The online-store conformance suite and the CAS convergence property against a real redis-server.
import {
  onlineStorePropertySuite,
  onlineStoreSuite,
  type RedisServerHandle,
  startRedis,
} from '@skewless/adapter-tests'
import { type RedisStore, redisStore } from '@skewless/online-redis'
import type { OnlineStore } from '@skewless/online-sink'
import { afterAll, beforeAll, it } from 'vitest'

let server: RedisServerHandle
beforeAll(async () => {
  server = await startRedis()
})
afterAll(async () => {
  await server?.stop()
})

// A small slack, so the suite's physical-expiry test sees keys expire within its wait. The
// changelog is on, so the suite's changelog group runs (and every other test writes through it).
const factory = () => redisStore({ url: server.url, expirySlackMs: 20, changelog: true })

/** The server's clock (`TIME`) in ms, to bound the changelog's availableTime. */
async function serverTime(store: OnlineStore): Promise<number> {
  const client = (store as RedisStore).getInstance() as unknown as { time(): Promise<[string, string]> }
  const [s, us] = await client.time()
  return Number(s) * 1000 + Math.floor(Number(us) / 1000)
}

onlineStoreSuite(it, factory, {
  name: 'redis',
  capabilities: { cas: true, additive: true, ttl: true, cluster: false, durable: true, changelog: true },
  storeTime: serverTime,
  // Another client of the same server, as a second process would have.
  sibling: () => factory(),
  namedChangelog: (_, name) => redisStore({ url: server.url, changelog: { name } }),
  corruptKey: async (store, entity) => {
    const s = store as RedisStore
    await (s.getInstance() as unknown as { set(k: string, v: string): Promise<unknown> }).set(
      s.valueKey(entity),
      'not a hash',
    )
  },
})

onlineStorePropertySuite(it, factory, { name: 'redis', property: { numRuns: 40 } })

// The bucketed key layout on a standalone server: one script call per bucket (one pipeline), one
// changelog stream per bucket, merged by readChangelog (exact order per key only).
const bucketed = () =>
  redisStore({ url: server.url, expirySlackMs: 20, changelog: true, buckets: 8, prefix: 'bk:' })

onlineStoreSuite(it, bucketed, {
  name: 'redis (8 buckets)',
  capabilities: { cas: true, additive: true, ttl: true, cluster: false, durable: true, changelog: true },
  storeTime: serverTime,
  changelogOrder: 'per-key',
  sibling: () => bucketed(),
  namedChangelog: (_, name) =>
    redisStore({ url: server.url, changelog: { name }, buckets: 8, prefix: 'bk:' }),
  corruptKey: async (store, entity) => {
    const s = store as RedisStore
    await (s.getInstance() as unknown as { set(k: string, v: string): Promise<unknown> }).set(
      s.valueKey(entity),
      'not a hash',
    )
  },
})
