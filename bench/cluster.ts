/**
 * `pnpm bench cluster`: the online sink + Redis store on a 3-node Redis Cluster this benchmark
 * starts on free loopback ports.
 *
 * A batch of writes over many entities touches many hash slots, and a script call may only touch
 * one slot. The store sends one call per slot and groups the calls of the slots one node serves
 * into one pipeline (from ioredis' slot map). The baseline, in the same run, is the same store
 * given a client without a slot map, so it sends every slot's call on its own (what the store did
 * before grouping). Both write the same updates (fresh keys each run: Redis is FLUSHALLed), and the
 * final state is checked.
 *
 * Rounds are interleaved (the machine is shared); the JSON line reports medians.
 * Env: BENCH_UPDATES (default 200_000), BENCH_KEYS (default 100_000), BENCH_ROUNDS (default 3).
 */
import type { FeatureUpdate } from '@skewless/core'
import { type RedisLike, type RedisStore, redisStore } from '@skewless/online-redis'
import { onlineSink } from '@skewless/online-sink'
import { Cluster } from 'ioredis'
import { startRedisCluster } from '../packages/adapter-tests/src/online/redis-cluster.js'
import { checkFinalState, writeAll } from './lib/online-run.ts'
import { xorshift } from './lib/rng.ts'

const UPDATES = Number(process.env.BENCH_UPDATES ?? 200_000)
const KEYS = Number(process.env.BENCH_KEYS ?? 100_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const CHUNK = 1000
const IN_FLIGHT = 8
const FEATURE = 'clicks_5m'
const features = [{ name: FEATURE, valueType: 'double' as const, strategy: 'cas' as const }]
const T0 = Date.UTC(2026, 10, 1)

const rand = xorshift(0x6c8e9cf5)
const updates: FeatureUpdate[] = new Array(UPDATES)
for (let i = 0; i < UPDATES; i++) {
  updates[i] = {
    entity: `user-${Math.floor(rand() * KEYS)}`,
    feature: FEATURE,
    value: Math.floor(rand() * 1000),
    eventTime: T0 + i,
    version: 0,
  }
}

/** The same ioredis Cluster, seen through a client that has no slot map: one call per slot. */
function withoutSlotMap(c: Cluster): RedisLike {
  const client = c as unknown as RedisLike
  return {
    isCluster: true,
    get status() {
      return client.status
    },
    evalsha: (...a) => client.evalsha(...a),
    eval: (...a) => client.eval(...a),
    refreshSlotsCache: () => client.refreshSlotsCache?.(),
    pipeline: () => client.pipeline(),
    quit: () => client.quit(),
    disconnect: () => client.disconnect(),
  }
}

async function run(nodes: readonly { host: string; port: number }[], grouped: boolean) {
  const client = new Cluster(nodes as { host: string; port: number }[], {
    enableAutoPipelining: false,
    scaleReads: 'master',
  })
  await Promise.all(client.nodes('master').map((n) => n.flushall()))
  const store: RedisStore = redisStore({ client: grouped ? client : withoutSlotMap(client) })
  const sink = onlineSink({ store, features, maxBatchSize: CHUNK, maxInFlightBatches: IN_FLIGHT })
  const t = performance.now()
  await writeAll(sink, updates, CHUNK)
  const seconds = (performance.now() - t) / 1000
  const m = sink.metrics()
  await sink.close()
  await checkFinalState(store, features, updates)
  await store.close()
  client.disconnect()
  return { perSec: m.writes / seconds, writes: m.writes, coalesced: m.coalesced }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] as number
}

console.log(
  `starting a 3-node Redis Cluster; ${UPDATES.toLocaleString()} CAS updates over ${KEYS.toLocaleString()} keys`,
)
const cluster = await startRedisCluster({ nodes: 3 })
const grouped: number[] = []
const perSlot: number[] = []
try {
  console.log('')
  console.log('| round | store writes | per node (writes/s) | per slot (writes/s) | ratio |')
  console.log('|-------|--------------|---------------------|---------------------|-------|')
  for (let r = 0; r < ROUNDS; r++) {
    const a = await run(cluster.nodes, true)
    const b = await run(cluster.nodes, false)
    grouped.push(a.perSec)
    perSlot.push(b.perSec)
    console.log(
      `| ${String(r + 1).padStart(5)} | ${a.writes.toLocaleString().padStart(12)} | ${Math.round(a.perSec).toLocaleString().padStart(19)} | ${Math.round(b.perSec).toLocaleString().padStart(19)} | ${(a.perSec / b.perSec).toFixed(2).padStart(5)} |`,
    )
  }
} finally {
  await cluster.stop()
}
const ratios = grouped.map((g, i) => g / (perSlot[i] as number))
console.log(
  JSON.stringify({
    bench: 'cluster',
    updates: UPDATES,
    sink_writes_per_s: Math.round(median(grouped)),
    per_slot_writes_per_s: Math.round(median(perSlot)),
    ratio_vs_per_slot: Number(median(ratios).toFixed(2)),
  }),
)
