// The same conformance suite against a 3-node Redis Cluster on loopback, started once for this file.
import {
  onlineStorePropertySuite,
  onlineStoreSuite,
  type RedisClusterHandle,
  startRedisCluster,
} from '@skewless/adapter-tests'
import { collectingSink, type FeatureWrite } from '@skewless/core'
import { type RedisStore, redisStore } from '@skewless/online-redis'
import {
  changelogCommitter,
  type OnlineDeadLetter,
  type OnlineFeatureConfig,
  onlineSink,
} from '@skewless/online-sink'
import { Cluster, Redis } from 'ioredis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { keySlot } from '../src/slot.js'

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

// The bucketed layout: one script call per bucket, and a changelog (one stream per bucket, in the
// slot of its keys), so the changelog group runs on the Cluster too.
const bucketed = () =>
  redisStore({ cluster: cluster.nodes, expirySlackMs: 20, buckets: 16, changelog: true, prefix: 'bk:' })

onlineStoreSuite(it, bucketed, {
  name: 'redis cluster (16 buckets)',
  capabilities: { cas: true, additive: true, ttl: true, cluster: true, durable: true, changelog: true },
  changelogOrder: 'per-key',
  sibling: () => bucketed(),
  namedChangelog: (_, name) =>
    redisStore({ cluster: cluster.nodes, changelog: { name }, buckets: 16, prefix: 'bk:' }),
  corruptKey: async (store, entity) => {
    const s = store as RedisStore
    await (s.getInstance() as unknown as Cluster).set(s.valueKey(entity), 'not a hash')
  },
})

onlineStorePropertySuite(it, bucketed, { name: 'redis cluster (16 buckets)', property: { numRuns: 25 } })

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

it('redis cluster: per-node write pipelines survive SCRIPT FLUSH (NOSCRIPT → EVAL per call) and stay aligned', async () => {
  const client = new Cluster(cluster.nodes as { host: string; port: number }[], {
    enableAutoPipelining: false,
  })
  try {
    const store = redisStore({ client, prefix: 'xflush:' })
    const f = { name: 'score', valueType: 'double' as const, strategy: 'cas' as const }
    const fm = new Map([[f.name, f]])
    const T = Date.UTC(2026, 10, 1)
    const batch = (v: number) =>
      Array.from({ length: 300 }, (_, i) => ({
        entity: `e${i}`,
        feature: f.name,
        value: v + i,
        eventTime: T + v,
        version: 0,
      }))
    // Load the slot map, so writes are grouped per node (many slots per pipeline).
    expect((await store.apply(batch(0), fm)).outcomes.every((o) => o === 'applied')).toBe(true)
    expect(client.slots.length).toBeGreaterThan(0)
    await Promise.all(client.nodes('master').map((n) => n.script('FLUSH')))
    const r = await store.apply(batch(1000), fm)
    expect(r.outcomes).toEqual(batch(1000).map(() => 'applied'))
    const rows = await store.read(
      batch(0).map((u) => u.entity),
      [f],
    )
    rows.forEach((row, i) => {
      expect(row[0]).toEqual({ kind: 'value', stored: { value: 1000 + i, eventTime: T + 1000, version: 0 } })
    })
    await store.close()
  } finally {
    client.disconnect()
  }
})

it("redis cluster: a node refusing the script fails only its slots' writes; the other nodes' writes are reported applied", async () => {
  const score: OnlineFeatureConfig = { name: 'score', valueType: 'double', strategy: 'cas' }
  const first = cluster.nodes[0] as { host: string; port: number }
  const node = new Redis(first.port, first.host)
  // A permission missing on one node only (a partial ACL rollout): its script calls fail for good.
  await node.call('ACL', 'SETUSER', 'default', '-evalsha', '-eval')
  const store = redisStore({ cluster: cluster.nodes })
  try {
    const down = collectingSink<FeatureWrite>()
    const dead = collectingSink<OnlineDeadLetter>()
    const sink = onlineSink({ store, features: [score], downstream: down, deadLetters: dead, lingerMs: 0 })
    const T = Date.UTC(2026, 10, 1)
    sink.write(
      Array.from({ length: 60 }, (_, i) => ({
        entity: `acl-${i}`,
        feature: score.name,
        value: i,
        eventTime: T,
        version: 0,
      })),
    )
    await sink.close()
    expect(dead.items.length).toBeGreaterThan(0)
    expect(down.items.length).toBeGreaterThan(0)
    expect(dead.items.length + down.items.length).toBe(60)
    expect(dead.items.every((d) => d.code === 'script-error' && /NOPERM|permission/i.test(d.message))).toBe(
      true,
    )
    // What the log got is exactly what Redis holds.
    const entities = Array.from({ length: 60 }, (_, i) => `acl-${i}`)
    const rows = await store.read(entities, [score])
    const stored = entities.filter((_, i) => rows[i]?.[0]?.kind === 'value')
    expect(down.items.map((w) => w.entity).sort()).toEqual(stored.sort())
  } finally {
    await node.call('ACL', 'SETUSER', 'default', '+@all')
    node.disconnect()
    await store.close()
  }
})

it('redis cluster (16 buckets): the changelog committer moves every applied write into a log exactly once, through array positions, and trims every bucket', async () => {
  const score: OnlineFeatureConfig = { name: 'score', valueType: 'double', strategy: 'cas' }
  const store = redisStore({
    cluster: cluster.nodes,
    buckets: 16,
    changelog: { name: 'part0' },
    prefix: 'cmt:',
  })
  // A log standing in for the offline log: rows, and marks kept as JSON (as a log stores them).
  const rows: FeatureWrite[] = []
  let marks = '{}'
  const log = {
    async appendMarked(batch: readonly FeatureWrite[], o: { marks: Record<string, unknown> }) {
      rows.push(...batch)
      marks = JSON.stringify({ ...JSON.parse(marks), ...o.marks })
    },
    async readMarks() {
      return JSON.parse(marks)
    },
  }
  const T = Date.UTC(2026, 10, 1)
  const batch = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({
      entity: `c${(from + i) % 700}`,
      feature: score.name,
      value: from + i,
      eventTime: T + from + i,
      version: 0,
    }))
  try {
    const sink = onlineSink({ store, features: [score], lingerMs: 0 })
    sink.write(batch(0, 2000))
    await sink.flush()
    const committer = changelogCommitter({ store, log, intervalMs: 0, pageSize: 300 })
    await committer.drain()
    const applied = sink.metrics().writes
    expect(rows.length).toBe(applied)
    expect(Array.isArray(JSON.parse(marks).changelog)).toBe(true)
    const lens = await Promise.all(
      (store.changelogKeys ?? []).map((k) => (store.getInstance() as unknown as Cluster).xlen(k)),
    )
    expect(lens.every((n) => n === 0)).toBe(true)
    await committer.close()
    // A new committer (a restarted process) resumes at the log's mark: only the new writes.
    sink.write(batch(2000, 500))
    await sink.close()
    const again = changelogCommitter({ store, log, intervalMs: 0, pageSize: 300 })
    await again.drain()
    await again.close()
    expect(rows.length).toBe(sink.metrics().writes)
    const ids = new Set(rows.map((w) => `${w.entity}/${w.eventTime}`))
    expect(ids.size).toBe(rows.length) // none twice
    // The log's last value per entity is what the store serves.
    const last = new Map<string, FeatureWrite>()
    for (const w of rows) if ((last.get(w.entity)?.eventTime ?? -1) < w.eventTime) last.set(w.entity, w)
    const es = [...last.keys()]
    const read = await store.read(es, [score])
    es.forEach((e, i) => {
      const r = read[i]?.[0]
      expect(r?.kind === 'value' ? r.stored.value : undefined).toBe(last.get(e)?.value)
    })
  } finally {
    await store.close()
  }
})
