/**
 * `pnpm bench online`: the online sink + Redis store against a naive sink and a hand-written
 * ceiling, on a redis-server this benchmark starts on a free loopback port.
 *
 * 1. naive sink: `await` one `store.apply` (one EVALSHA of the same CAS script) per update (a prefix,
 *    rate extrapolated); also shown: the same with a raw EVALSHA and no store code;
 * 2. ceiling: the same multi-key CAS script in batches of 1000, several in flight, no library;
 * 3. library: `onlineSink` + `redisStore`, updates handed over in chunks of 1000, then `flush()`;
 * 4. hot keys: 1M updates over 1k keys (Zipf) through the library (coalescing);
 * 5. freshness: a steady 100k updates/s (chunks of 200 every 2 ms), p99 of availableTime − arrival.
 *
 * Updates 1–3: 1M CAS updates to 100k keys, a random key order repeated 10 times with growing event
 * times, so every update is applied and no two updates of a key are close enough to coalesce: the
 * three runs issue the same writes. Redis is FLUSHALLed before each run.
 *
 * Runs 1–3 are repeated in BENCH_ROUNDS interleaved rounds (the machine is shared, so load varies);
 * the JSON line reports the median of each figure over the rounds and the median per-round ratio.
 *
 * Env: BENCH_UPDATES (default 1_000_000), BENCH_KEYS (default 100_000), BENCH_NAIVE (default 30_000),
 * BENCH_ROUNDS (default 5).
 */
import type { FeatureUpdate } from '@skewless/core'
import { redisStore } from '@skewless/online-redis'
import { onlineSink } from '@skewless/online-sink'
import { Redis } from 'ioredis'
import { startRedis } from '../packages/adapter-tests/src/online/redis-server.js'
import { APPLY_SCRIPT, APPLY_SCRIPT_SHA } from '../packages/online-redis/src/script.js'
import { checkFinalState, writeAll } from './lib/online-run.ts'
import { xorshift } from './lib/rng.ts'

const UPDATES = Number(process.env.BENCH_UPDATES ?? 1_000_000)
const KEYS = Number(process.env.BENCH_KEYS ?? 100_000)
const NAIVE = Math.min(UPDATES, Number(process.env.BENCH_NAIVE ?? 30_000))
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const HOT_KEYS = 1000
const CHUNK = 1000
const IN_FLIGHT = 8
const T0 = Date.UTC(2026, 10, 1)
const FEATURE = 'clicks_5m'
const features = [{ name: FEATURE, valueType: 'double' as const, strategy: 'cas' as const }]

const rand = xorshift(0x2545f491)

function uniformUpdates(): FeatureUpdate[] {
  const order = Array.from({ length: KEYS }, (_, i) => i)
  for (let i = KEYS - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    const t = order[i] as number
    order[i] = order[j] as number
    order[j] = t
  }
  const names = Array.from({ length: KEYS }, (_, i) => `user-${i}`)
  const out: FeatureUpdate[] = new Array(UPDATES)
  for (let i = 0; i < UPDATES; i++) {
    const round = Math.floor(i / KEYS)
    out[i] = {
      entity: names[order[i % KEYS] as number] as string,
      feature: FEATURE,
      value: Math.floor(rand() * 1000),
      eventTime: T0 + i,
      version: round,
    }
  }
  return out
}

function zipfUpdates(): FeatureUpdate[] {
  const cdf = new Float64Array(HOT_KEYS)
  let acc = 0
  for (let k = 0; k < HOT_KEYS; k++) {
    acc += 1 / (k + 1)
    cdf[k] = acc
  }
  for (let k = 0; k < HOT_KEYS; k++) cdf[k] = (cdf[k] as number) / acc
  const names = Array.from({ length: HOT_KEYS }, (_, i) => `hot-${i}`)
  const out: FeatureUpdate[] = new Array(UPDATES)
  for (let i = 0; i < UPDATES; i++) {
    const x = rand()
    let lo = 0
    let hi = HOT_KEYS - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((cdf[mid] as number) < x) lo = mid + 1
      else hi = mid
    }
    out[i] = { entity: names[lo] as string, feature: FEATURE, value: i, eventTime: T0 + i, version: 0 }
  }
  return out
}

const secondsSince = (t: number) => (performance.now() - t) / 1000

// The script's spec arguments for one CAS feature without TTL (see packages/online-redis/src/script.ts).
const header = (count: number) => ['1', String(Date.now()), 'c', FEATURE, '-1', '', String(count)]

/** EVALSHA with array arguments (ioredis flattens them one level; its typings do not say so). */
type EvalSha = (sha: string, numKeys: number, ...args: (string | string[])[]) => Promise<unknown>
const evalsha = (redis: Redis) => redis.evalsha.bind(redis) as unknown as EvalSha

/** The naive sink: `await` one `store.apply` (one key, one script call) per update. */
async function naiveSink(url: string, updates: FeatureUpdate[]): Promise<number> {
  const store = redisStore({ url })
  const fm = new Map(features.map((f) => [f.name, f]))
  const t = performance.now()
  for (let i = 0; i < NAIVE; i++) await store.apply([updates[i] as FeatureUpdate], fm)
  const rate = NAIVE / secondsSince(t)
  await store.close()
  return rate
}

/** The same without the store: `await` one raw EVALSHA per update. */
async function naiveRaw(redis: Redis, updates: FeatureUpdate[]): Promise<number> {
  const send = evalsha(redis)
  const t = performance.now()
  for (let i = 0; i < NAIVE; i++) {
    const u = updates[i] as FeatureUpdate
    await send(APPLY_SCRIPT_SHA, 1, `sk:{${u.entity}}`, header(1), `${u.eventTime},${u.version},d${u.value}`)
  }
  return NAIVE / secondsSince(t)
}

/** The ceiling: batches of CHUNK writes as one EVALSHA each, IN_FLIGHT batches pipelined on one connection. */
async function ceiling(redis: Redis, updates: FeatureUpdate[]): Promise<number> {
  const send = evalsha(redis)
  const t = performance.now()
  let next = 0
  let applied = 0
  const worker = async () => {
    while (next < updates.length) {
      const from = next
      const to = Math.min(from + CHUNK, updates.length)
      next = to
      const keys: string[] = new Array(to - from)
      const args: string[] = new Array(to - from)
      for (let i = from, k = 0; i < to; i++, k++) {
        const u = updates[i] as FeatureUpdate
        keys[k] = `sk:{${u.entity}}`
        args[k] = `${u.eventTime},${u.version},d${u.value}`
      }
      const r = (await send(APPLY_SCRIPT_SHA, keys.length, keys, header(keys.length), args)) as string[]
      const codes = r[0] as string
      for (let k = 0; k < codes.length; k++) if (codes.charCodeAt(k) === 97) applied++
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  if (applied !== updates.length) throw new Error(`ceiling applied ${applied} of ${updates.length}`)
  return updates.length / secondsSince(t)
}

async function library(url: string, updates: FeatureUpdate[]) {
  const store = redisStore({ url })
  const sink = onlineSink({ store, features, maxBatchSize: CHUNK, maxInFlightBatches: IN_FLIGHT })
  const t = performance.now()
  await writeAll(sink, updates, CHUNK)
  const s = secondsSince(t)
  const m = sink.metrics()
  await sink.close()
  await checkFinalState(store, features, updates)
  await store.close()
  return { perSec: updates.length / s, seconds: s, m }
}

async function freshness(url: string, names: string[], seconds: number) {
  const store = redisStore({ url })
  const clock = { now: () => performance.timeOrigin + performance.now() }
  const sink = onlineSink({ store, features, clock, maxBatchSize: CHUNK, maxInFlightBatches: IN_FLIGHT })
  // Small chunks at a short period: a steady stream, as a pipeline's micro-batches would arrive.
  const chunkSize = 200
  const perChunkMs = (chunkSize / 100_000) * 1000
  const chunks = Math.round((seconds * 1000) / perChunkMs)
  const start = performance.now()
  let version = 0
  for (let c = 0; c < chunks; c++) {
    const due = start + c * perChunkMs
    const wait = due - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    // Arrival = the instant the chunk is handed to the sink: it is the event time, so the sink's
    // freshness histogram (availableTime − eventTime) is exactly availableTime − arrival.
    const arrival = clock.now()
    const chunk: FeatureUpdate[] = new Array(chunkSize)
    for (let k = 0; k < chunkSize; k++) {
      chunk[k] = {
        entity: names[(c * chunkSize + k) % names.length] as string,
        feature: FEATURE,
        value: k,
        eventTime: arrival,
        version: version++,
      }
    }
    const r = sink.write(chunk)
    if (r) await r
  }
  const elapsed = secondsSince(start)
  await sink.flush()
  const m = sink.metrics()
  await sink.close()
  await store.close()
  return { rate: (chunks * chunkSize) / elapsed, m }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

async function main() {
  const server = await startRedis({ useEnv: false })
  const redis = new Redis(server.url)
  try {
    await redis.script('LOAD', APPLY_SCRIPT)
    const uniform = uniformUpdates()
    const names = Array.from({ length: KEYS }, (_, i) => `user-${i}`)

    // Rounds interleave the runs, so load from other processes on this shared machine hits all of
    // them alike; the ratios are taken per round.
    const rounds: {
      naive: number
      raw: number
      ceiling: number
      lib: Awaited<ReturnType<typeof library>>
    }[] = []
    await redis.flushall()
    await ceiling(redis, uniform.slice(0, 100_000)) // warm-up
    await redis.flushall()
    await library(server.url, uniform.slice(0, 100_000)) // warm-up
    for (let r = 0; r < ROUNDS; r++) {
      await redis.flushall()
      const naive = await naiveSink(server.url, uniform)
      await redis.flushall()
      const raw = await naiveRaw(redis, uniform)
      await redis.flushall()
      const ceil = await ceiling(redis, uniform)
      await redis.flushall()
      const lib = await library(server.url, uniform)
      rounds.push({ naive, raw, ceiling: ceil, lib })
    }
    const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
    await redis.flushall()
    const hot = await library(server.url, zipfUpdates())
    await redis.flushall()
    const fresh = await freshness(server.url, names, 5)

    const rows: [string, string, string][] = [['run', 'updates/s', 'notes']]
    rounds.forEach((r, k) => {
      rows.push(
        [
          `round ${k + 1}: naive sink`,
          fmt(r.naive),
          `await store.apply per update; first ${fmt(NAIVE)} timed`,
        ],
        [`round ${k + 1}: naive raw EVALSHA`, fmt(r.raw), 'await one EVALSHA per update, no store code'],
        [
          `round ${k + 1}: ceiling`,
          fmt(r.ceiling),
          `hand-written, batches of ${CHUNK}, ${IN_FLIGHT} in flight`,
        ],
        [
          `round ${k + 1}: library sink`,
          fmt(r.lib.perSec),
          `${fmt(r.lib.m.writes)} writes, ${fmt(r.lib.m.applied)} applied, ${fmt(r.lib.m.coalesced)} coalesced, p99 call ${r.lib.m.writeLatencyMs.p99.toFixed(1)} ms; ${(r.lib.perSec / r.naive).toFixed(1)}x naive, ${(r.lib.perSec / r.ceiling).toFixed(2)}x ceiling`,
        ],
      )
    })
    rows.push(
      [
        'hot keys (Zipf, 1k keys)',
        fmt(hot.perSec),
        `${fmt(hot.m.updates)} updates, ${fmt(hot.m.writes)} writes issued, ${fmt(hot.m.coalesced)} coalesced`,
      ],
      [
        'freshness @100k/s',
        fmt(fresh.rate),
        `availableTime − arrival: p50 ${fresh.m.freshnessMs.p50.toFixed(2)} ms, p99 ${fresh.m.freshnessMs.p99.toFixed(2)} ms, max ${fresh.m.freshnessMs.max.toFixed(2)} ms`,
      ],
    )
    // Each figure is the median over rounds; each ratio the median of the per-round ratios.
    const sinkRate = median(rounds.map((r) => r.lib.perSec))
    const naiveRate = median(rounds.map((r) => r.naive))
    const ceilingRate = median(rounds.map((r) => r.ceiling))
    const vsNaive = median(rounds.map((r) => r.lib.perSec / r.naive))
    const vsCeiling = median(rounds.map((r) => r.lib.perSec / r.ceiling))
    rows.push([
      `median of ${rounds.length} rounds`,
      fmt(sinkRate),
      `naive ${fmt(naiveRate)}/s, ceiling ${fmt(ceilingRate)}/s; ratios (median per round) ${vsNaive.toFixed(1)}x naive, ${vsCeiling.toFixed(2)}x ceiling`,
    ])
    const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => (r[c] as string).length)))
    for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c] as number)).join('  '))
    console.log(
      `targets: ratio_vs_naive >= 25, ratio_vs_ceiling >= 0.7, hot >= 1,000,000/s, p99 freshness <= 10 ms`,
    )
    const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d
    console.log(
      JSON.stringify({
        bench: 'online',
        sink_writes_per_s: Math.round(sinkRate),
        naive_writes_per_s: Math.round(naiveRate),
        ceiling_writes_per_s: Math.round(ceilingRate),
        ratio_vs_naive: round(vsNaive),
        ratio_vs_ceiling: round(vsCeiling),
        hot_events_per_s: Math.round(hot.perSec),
        p99_freshness_ms: round(fresh.m.freshnessMs.p99),
      }),
    )
  } finally {
    redis.disconnect()
    await server.stop()
  }
}

await main()
