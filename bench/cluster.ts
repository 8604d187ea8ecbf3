/**
 * `pnpm bench cluster`: the online sink + Redis store on a 3-node Redis Cluster this benchmark
 * starts on free loopback ports, against one standalone Redis in the same run.
 *
 * Rows, each the same updates through `onlineSink` + `redisStore` (fresh keys: FLUSHALL first, final
 * state checked):
 * - standalone: one redis-server, the entity-tag layout (one script call per batch);
 * - cluster, entity tag (`buckets: 0`): one script call per hash slot a batch touches (~1 write
 *   each with many entities), the calls of one node in one pipeline;
 * - cluster, bucketed (`buckets: BENCH_BUCKETS`): one script call per bucket (at most N per batch).
 * `ratio_vs_standalone` is bucketed cluster over standalone (target >= 0.5, issue 13).
 *
 * Besides wall-clock rates, each row measures CPU per store write, which moves less with the
 * machine's load: the servers' (`INFO cpu`, user + sys, summed over the masters) and this process's
 * (`process.cpuUsage`: the sink, the store's batching and ioredis).
 *
 * Rounds are interleaved (the machine is shared); the JSON line reports medians.
 * Env: BENCH_UPDATES (default 200_000), BENCH_KEYS (default 100_000), BENCH_ROUNDS (default 3),
 * BENCH_BUCKETS (default 16), BENCH_CHANGELOG=1 (bucketed and standalone stores keep a changelog),
 * BENCH_ONLY_BUCKETED=1 (the bucketed row alone, e.g. under `node --cpu-prof`).
 */
import type { FeatureUpdate } from '@skewless/core'
import { type RedisStore, redisStore } from '@skewless/online-redis'
import { onlineSink } from '@skewless/online-sink'
import { Cluster, Redis } from 'ioredis'
import { startRedisCluster } from '../packages/adapter-tests/src/online/redis-cluster.js'
import { startRedis } from '../packages/adapter-tests/src/online/redis-server.js'
import { checkFinalState, writeAll } from './lib/online-run.ts'
import { xorshift } from './lib/rng.ts'

const UPDATES = Number(process.env.BENCH_UPDATES ?? 200_000)
const KEYS = Number(process.env.BENCH_KEYS ?? 100_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const BUCKETS = Number(process.env.BENCH_BUCKETS ?? 16)
const CHANGELOG = process.env.BENCH_CHANGELOG === '1'
const ONLY_BUCKETED = process.env.BENCH_ONLY_BUCKETED === '1'
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

type Target =
  | { kind: 'standalone'; url: string }
  | { kind: 'cluster'; nodes: { host: string; port: number }[] }

async function run(target: Target, buckets: number) {
  const changelog = CHANGELOG && (target.kind === 'standalone' || buckets > 0)
  let client: Redis | Cluster
  if (target.kind === 'cluster') {
    client = new Cluster(target.nodes, { enableAutoPipelining: false, scaleReads: 'master' })
    await Promise.all(client.nodes('master').map((n) => n.flushall()))
  } else {
    client = new Redis(target.url)
    await client.flushall()
  }
  const store: RedisStore = redisStore({
    client: client as unknown as NonNullable<Parameters<typeof redisStore>[0]>['client'],
    buckets,
    changelog,
  })
  const servers = target.kind === 'cluster' ? (client as Cluster).nodes('master') : [client as Redis]
  const serverCpu = async () => {
    let us = 0
    for (const n of servers) {
      const info = await n.info('cpu')
      for (const f of ['used_cpu_user', 'used_cpu_sys'])
        us += Number(new RegExp(`^${f}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0) * 1e6
    }
    return us
  }
  const sink = onlineSink({ store, features, maxBatchSize: CHUNK, maxInFlightBatches: IN_FLIGHT })
  const cpu0 = await serverCpu()
  const own0 = process.cpuUsage()
  const t = performance.now()
  await writeAll(sink, updates, CHUNK)
  const seconds = (performance.now() - t) / 1000
  const own = process.cpuUsage(own0)
  const cpu1 = await serverCpu()
  const m = sink.metrics()
  await sink.close()
  await checkFinalState(store, features, updates)
  await store.close()
  client.disconnect()
  return {
    perSec: m.writes / seconds,
    writes: m.writes,
    serverUs: (cpu1 - cpu0) / m.writes,
    clientUs: (own.user + own.system) / m.writes,
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] as number
}
const fmt = (x: number) => Math.round(x).toLocaleString().padStart(10)

console.log(
  `starting a 3-node Redis Cluster and a standalone Redis; ${UPDATES.toLocaleString()} CAS updates over ${KEYS.toLocaleString()} keys, ${BUCKETS} buckets${CHANGELOG ? ', changelog on' : ''}`,
)
const cluster = await startRedisCluster({ nodes: 3 })
const single = await startRedis({ useEnv: false })
const standalone: number[] = []
const entityTag: number[] = []
const bucketed: number[] = []
const cpu: Record<'s' | 'e' | 'b', { server: number[]; client: number[] }> = {
  s: { server: [], client: [] },
  e: { server: [], client: [] },
  b: { server: [], client: [] },
}
try {
  console.log('')
  console.log(
    '| round | store writes | standalone | cluster, entity tag | cluster, bucketed | bucketed / standalone |',
  )
  console.log(
    '|-------|--------------|------------|---------------------|-------------------|-----------------------|',
  )
  for (let r = 0; r < ROUNDS; r++) {
    const b = await run({ kind: 'cluster', nodes: [...cluster.nodes] }, BUCKETS)
    if (ONLY_BUCKETED) {
      // For a CPU profile of the bucketed path alone.
      bucketed.push(b.perSec)
      cpu.b.server.push(b.serverUs)
      cpu.b.client.push(b.clientUs)
      continue
    }
    const s = await run({ kind: 'standalone', url: single.url }, 0)
    const e = await run({ kind: 'cluster', nodes: [...cluster.nodes] }, 0)
    standalone.push(s.perSec)
    entityTag.push(e.perSec)
    bucketed.push(b.perSec)
    for (const [k, x] of [
      ['s', s],
      ['e', e],
      ['b', b],
    ] as const) {
      cpu[k].server.push(x.serverUs)
      cpu[k].client.push(x.clientUs)
    }
    console.log(
      `| ${String(r + 1).padStart(5)} | ${s.writes.toLocaleString().padStart(12)} | ${fmt(s.perSec)} | ${fmt(e.perSec).padStart(19)} | ${fmt(b.perSec).padStart(17)} | ${(b.perSec / s.perSec).toFixed(2).padStart(21)} |`,
    )
  }
} finally {
  await cluster.stop()
  await single.stop()
}
if (ONLY_BUCKETED) {
  console.log(
    JSON.stringify({
      bench: 'cluster',
      only: 'bucketed',
      bucketed_writes_per_s: Math.round(median(bucketed)),
      server_cpu_us_per_write: Number(median(cpu.b.server).toFixed(2)),
      client_cpu_us_per_write: Number(median(cpu.b.client).toFixed(2)),
    }),
  )
  process.exit(0)
}
console.log('')
console.log('CPU per store write (µs, median): server (all masters) / this process')
for (const [k, label] of [
  ['s', 'standalone'],
  ['e', 'cluster, entity tag'],
  ['b', 'cluster, bucketed'],
] as const) {
  console.log(
    `  ${label.padEnd(20)} ${median(cpu[k].server).toFixed(2)} / ${median(cpu[k].client).toFixed(2)}`,
  )
}
const ratios = bucketed.map((b, i) => b / (standalone[i] as number))
const tagRatios = entityTag.map((e, i) => e / (standalone[i] as number))
console.log(
  JSON.stringify({
    bench: 'cluster',
    updates: UPDATES,
    buckets: BUCKETS,
    changelog: CHANGELOG,
    standalone_writes_per_s: Math.round(median(standalone)),
    entity_tag_writes_per_s: Math.round(median(entityTag)),
    bucketed_writes_per_s: Math.round(median(bucketed)),
    ratio_vs_standalone: Number(median(ratios).toFixed(2)),
    entity_tag_ratio_vs_standalone: Number(median(tagRatios).toFixed(2)),
    server_cpu_us_per_write: {
      standalone: Number(median(cpu.s.server).toFixed(2)),
      entity_tag: Number(median(cpu.e.server).toFixed(2)),
      bucketed: Number(median(cpu.b.server).toFixed(2)),
    },
    client_cpu_us_per_write: {
      standalone: Number(median(cpu.s.client).toFixed(2)),
      entity_tag: Number(median(cpu.e.client).toFixed(2)),
      bucketed: Number(median(cpu.b.client).toFixed(2)),
    },
  }),
)
