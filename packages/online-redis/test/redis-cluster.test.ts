// The same conformance suite against a 3-node Redis Cluster on loopback, started once for this file.
import {
  onlineStorePropertySuite,
  onlineStoreSuite,
  type RedisClusterHandle,
  startRedisCluster,
} from '@skewless/adapter-tests'
import { keySlot, type RedisStore, redisStore } from '@skewless/online-redis'
import { Cluster } from 'ioredis'
import { afterAll, beforeAll, expect, it } from 'vitest'

let cluster: RedisClusterHandle
beforeAll(async () => {
  cluster = await startRedisCluster({ nodes: 3 })
})
afterAll(async () => {
  await cluster?.stop()
})

const factory = () => redisStore({ cluster: cluster.nodes, expirySlackMs: 20 })

onlineStoreSuite(it, factory, {
  name: 'redis cluster',
  capabilities: { cas: true, additive: true, ttl: true, cluster: true, durable: true },
  corruptKey: async (store, entity) => {
    const s = store as RedisStore
    await (s.getInstance() as unknown as Cluster).set(s.valueKey(entity), 'not a hash')
  },
})

onlineStorePropertySuite(it, factory, { name: 'redis cluster', property: { numRuns: 25 } })

it('redis cluster: keySlot matches the server, and an entity keeps all its keys in one slot', async () => {
  const client = new Cluster(cluster.nodes as { host: string; port: number }[])
  try {
    const store = redisStore({ client })
    expect(store.capabilities.cluster).toBe(true)
    for (const entity of ['user-1', 'ünïcødé-😀', 'a}b', '{x}', 'plain']) {
      const k = store.valueKey(entity)
      expect(keySlot(k)).toBe(Number(await client.cluster('KEYSLOT', k)))
      expect(keySlot(store.tileKey(entity, 'clicks'))).toBe(keySlot(k))
    }
    await store.close() // a client passed in is never closed by the store
    expect(client.status).toBe('ready')
  } finally {
    client.disconnect()
  }
})
