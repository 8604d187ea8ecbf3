/**
 * `npx tsx bench/run.ts changelog`: what the store's changelog costs (docs/decisions/checkpoint-protocol.md,
 * "Cost of the store changelog"). On a redis-server this benchmark starts on a free loopback port:
 *
 * 1. sink throughput, `onlineSink` + `redisStore` with and without `changelog: true`, the same 1M CAS
 *    updates to 100k keys (every one applied, none coalesced: as in bench/online.ts), in
 *    BENCH_ROUNDS interleaved rounds (the machine is shared; the ratio is taken per round);
 *    with the Redis server's CPU time per write (INFO cpu), which the machine's load moves less;
 * 2. Redis memory of the changelog: MEMORY USAGE of the stream (exact, SAMPLES 0) and the drop of
 *    INFO used_memory when it is deleted, per write and per 100k writes;
 * 3. reading it back with `readChangelog` (pages of 10k writes) and trimming it.
 *
 * Env: BENCH_UPDATES (default 1_000_000), BENCH_KEYS (default 100_000), BENCH_ROUNDS (default 3).
 */
import type { FeatureUpdate } from '@skewless/core'
import { redisStore } from '@skewless/online-redis'
import { onlineSink } from '@skewless/online-sink'
import { Redis } from 'ioredis'
import { startRedis } from '../packages/adapter-tests/src/online/redis-server.js'
import { checkFinalState, writeAll } from './lib/online-run.ts'
import { xorshift } from './lib/rng.ts'

const UPDATES = Number(process.env.BENCH_UPDATES ?? 1_000_000)
const KEYS = Number(process.env.BENCH_KEYS ?? 100_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const CHUNK = 1000
const IN_FLIGHT = 8
const T0 = Date.UTC(2026, 10, 1)
const FEATURE = 'clicks_5m'
const features = [{ name: FEATURE, valueType: 'double' as const, strategy: 'cas' as const }]
const rand = xorshift(0x2545f491)

/** Every update applied: a random key order repeated with growing event times (as bench/online.ts). */
function uniformUpdates(): FeatureUpdate[] {
  const order = Array.from({ length: KEYS }, (_, i) => i)
  for (let i = KEYS - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    const t = order[i] as number
    order[i] = order[j] as number
    order[j] = t
  }
  const out: FeatureUpdate[] = new Array(UPDATES)
  for (let i = 0; i < UPDATES; i++) {
    out[i] = {
      entity: `user-${order[i % KEYS]}`,
      feature: FEATURE,
      value: Math.floor(rand() * 1000),
      eventTime: T0 + i,
      version: Math.floor(i / KEYS),
    }
  }
  return out
}

/** Redis server CPU time so far (user + sys, µs): load on the machine does not inflate it much. */
async function serverCpuUs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu')
  const get = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN)
  return (get('used_cpu_user') + get('used_cpu_sys')) * 1e6
}

async function sinkRun(url: string, redis: Redis, updates: FeatureUpdate[], changelog: boolean) {
  const cpu0 = await serverCpuUs(redis)
  const store = redisStore({ url, changelog })
  const sink = onlineSink({ store, features, maxBatchSize: CHUNK, maxInFlightBatches: IN_FLIGHT })
  const t = performance.now()
  await writeAll(sink, updates, CHUNK)
  const seconds = (performance.now() - t) / 1000
  const cpuUsPerWrite = ((await serverCpuUs(redis)) - cpu0) / updates.length
  const m = sink.metrics()
  await sink.close()
  await checkFinalState(store, features, updates)
  await store.close()
  if (m.applied !== updates.length) throw new Error(`applied ${m.applied} of ${updates.length}`)
  return { perSec: updates.length / seconds, p99: m.writeLatencyMs.p99, cpuUsPerWrite }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const usedMemory = async (redis: Redis) => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1])

async function main() {
  const server = await startRedis({ useEnv: false })
  const redis = new Redis(server.url)
  try {
    const updates = uniformUpdates()
    await redis.flushall()
    await sinkRun(server.url, redis, updates.slice(0, 100_000), true) // warm-up
    const rounds: { off: Awaited<ReturnType<typeof sinkRun>>; on: Awaited<ReturnType<typeof sinkRun>> }[] = []
    for (let r = 0; r < ROUNDS; r++) {
      await redis.flushall()
      const off = await sinkRun(server.url, redis, updates, false)
      await redis.flushall()
      const on = await sinkRun(server.url, redis, updates, true)
      rounds.push({ off, on })
    }

    // The last "on" run's changelog is still there: measure it, read it back, trim it.
    const store = redisStore({ url: server.url, changelog: true })
    const key = store.changelogKey as string
    const entries = await redis.xlen(key)
    const streamBytes = Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'))
    let t = performance.now()
    let read = 0
    let position: string | undefined
    for (;;) {
      const page = await store.readChangelog?.(position, { limit: 10_000 })
      if (!page) throw new Error('no readChangelog')
      read += page.writes.length
      position = page.position as string | undefined
      if (page.end) break
    }
    const readPerSec = read / ((performance.now() - t) / 1000)
    if (read !== UPDATES) throw new Error(`read ${read} writes back, expected ${UPDATES}`)
    const before = await usedMemory(redis)
    t = performance.now()
    await store.trimChangelog?.(position as string)
    const trimMs = performance.now() - t
    const dropped = before - (await usedMemory(redis))
    await store.close()

    const bytesPerWrite = streamBytes / UPDATES
    const rows: [string, string, string][] = [['run', 'writes/s', 'notes']]
    rounds.forEach((r, k) => {
      rows.push(
        [
          `round ${k + 1}: changelog off`,
          fmt(r.off.perSec),
          `p99 call ${r.off.p99.toFixed(1)} ms; Redis CPU ${r.off.cpuUsPerWrite.toFixed(2)} µs/write`,
        ],
        [
          `round ${k + 1}: changelog on`,
          fmt(r.on.perSec),
          `p99 call ${r.on.p99.toFixed(1)} ms; Redis CPU ${r.on.cpuUsPerWrite.toFixed(2)} µs/write; ${(r.on.perSec / r.off.perSec).toFixed(2)}x off`,
        ],
      )
    })
    rows.push(
      ['changelog stream', fmt(entries), `entries for ${fmt(UPDATES)} writes (one per script call)`],
      [
        'stream memory',
        `${fmt(bytesPerWrite)} B/write`,
        `MEMORY USAGE ${fmt(streamBytes)} B = ${((bytesPerWrite * 100_000) / 1e6).toFixed(2)} MB per 100k writes; trim freed ${fmt(dropped)} B of used_memory`,
      ],
      ['readChangelog', fmt(readPerSec), `pages of 10k writes; trim of all ${trimMs.toFixed(1)} ms`],
    )
    const width = rows.reduce((w, r) => Math.max(w, r[0].length), 0)
    for (const r of rows) console.log(`${r[0].padEnd(width)}  ${r[1].padStart(14)}  ${r[2]}`)
    const off = median(rounds.map((r) => r.off.perSec))
    const on = median(rounds.map((r) => r.on.perSec))
    console.log(
      JSON.stringify({
        bench: 'changelog',
        writes_per_s_off: Math.round(off),
        writes_per_s_on: Math.round(on),
        ratio: Number(median(rounds.map((r) => r.on.perSec / r.off.perSec)).toFixed(3)),
        bytes_per_write: Number(bytesPerWrite.toFixed(1)),
        redis_cpu_us_per_write_off: Number(median(rounds.map((r) => r.off.cpuUsPerWrite)).toFixed(2)),
        redis_cpu_us_per_write_on: Number(median(rounds.map((r) => r.on.cpuUsPerWrite)).toFixed(2)),
        bytes_per_100k_writes: Math.round(bytesPerWrite * 100_000),
        read_writes_per_s: Math.round(readPerSec),
        updates: UPDATES,
        rounds: ROUNDS,
      }),
    )
  } finally {
    redis.disconnect()
    await server.stop()
  }
}

await main()
