/**
 * `pnpm bench telemetry`: the cost of the OpenTelemetry instruments, in one run, A/B interleaved.
 *
 * - core: the `pnpm bench core` workload (a pipeline computing count + sum over hopping windows,
 *   updates to a sink that only checksums them) on BENCH_EVENTS events;
 * - online: the `pnpm bench online` library run (`onlineSink` + `redisStore` on a redis-server this
 *   benchmark starts, CAS updates in chunks of 1000) on BENCH_UPDATES updates.
 *
 * Each is timed with the no-op MeterProvider (no SDK: what a library user without OpenTelemetry
 * pays) and with a real `@opentelemetry/sdk-metrics` MeterProvider collected every BENCH_COLLECT_MS
 * (default 1000: fifteen times a usual 15 s scrape interval), in BENCH_ROUNDS
 * interleaved rounds after a warm-up (noop-sdk, then sdk-noop, ...). Measured: this process's CPU
 * time (user + system; the SDK's collections included, Redis's own CPU not), which other tenants of
 * a shared machine disturb far less than wall time. Reported: the median CPU ms of each and the
 * median per-round ratio sdk / noop.
 *
 * Env: BENCH_EVENTS (default 1_000_000), BENCH_UPDATES (default 300_000), BENCH_ROUNDS (default 5),
 * BENCH_COLLECT_MS (default 1000).
 */
import {
  count,
  createPipeline,
  defineFeatures,
  type FeatureUpdate,
  hopping,
  type PipelineOptions,
  type Sink,
  sum,
} from '@skewless/core'
import { redisStore } from '@skewless/online-redis'
import { onlineSink } from '@skewless/online-sink'
import { startRedis } from '../packages/adapter-tests/src/online/redis-server.js'
import { testMeter } from '../packages/adapter-tests/src/telemetry.js'
import { writeAll } from './lib/online-run.ts'
import { xorshift } from './lib/rng.ts'

type MeterProvider = NonNullable<PipelineOptions<unknown>['meterProvider']>

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000)
const UPDATES = Number(process.env.BENCH_UPDATES ?? 300_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
/** How often the SDK is collected during a timed run (ms). */
const COLLECT_MS = Number(process.env.BENCH_COLLECT_MS ?? 1000)
const USERS = 10_000
const KEYS = 100_000
const T0 = Date.UTC(2026, 10, 1)
const rand = xorshift(0x9e3779b1)

interface Ev {
  user: string
  ts: number
  amount: number
}

const users = Array.from({ length: USERS }, (_, i) => `user-${i}`)
const batches: Ev[][] = []
for (let i = 0; i < EVENTS; i += 4096) {
  const b: Ev[] = []
  for (let k = i; k < Math.min(EVENTS, i + 4096); k++) {
    b.push({
      user: users[Math.floor(rand() * USERS)] as string,
      ts: T0 + k * 5,
      amount: Math.floor(rand() * 100),
    })
  }
  batches.push(b)
}
const updates: FeatureUpdate[] = []
for (let i = 0; i < UPDATES; i++) {
  updates.push({
    entity: `k${Math.floor(rand() * KEYS)}`,
    feature: 'score',
    value: i,
    eventTime: T0 + i,
    version: 0,
  })
}

/** Collect every COLLECT_MS while `work` runs (what a scraping exporter does), and once at the end. */
async function collecting<T>(
  collect: (() => Promise<unknown>) | undefined,
  work: () => Promise<T>,
): Promise<T> {
  if (collect === undefined) return work()
  let busy = false
  const timer = setInterval(() => {
    if (busy) return
    busy = true
    collect().finally(() => {
      busy = false
    })
  }, COLLECT_MS)
  try {
    return await work()
  } finally {
    clearInterval(timer)
    await collect()
  }
}

async function runCore(meterProvider: MeterProvider | undefined): Promise<{ ms: number; updates: number }> {
  let n = 0
  const sink: Sink<FeatureUpdate> = {
    write(us) {
      n += us.length
    },
    flush: async () => {},
    close: async () => {},
  }
  const features = defineFeatures<Ev>({
    entity: (e) => e.user,
    eventTime: (e) => e.ts,
    features: {
      clicks_5m: { window: hopping('5m', '1m'), aggregate: count() },
      amount_5m: { window: hopping('5m', '1m'), aggregate: sum(), value: (e) => e.amount },
    },
  })
  async function* source() {
    for (const b of batches) yield b
  }
  const p = createPipeline({
    source: source(),
    features,
    sink,
    watermark: { outOfOrderness: 2000 },
    logger: false,
    ...(meterProvider === undefined ? {} : { meterProvider }),
  })
  const c0 = process.cpuUsage()
  await p.run()
  const cpu = process.cpuUsage(c0)
  await p.close()
  return { ms: (cpu.user + cpu.system) / 1000, updates: n }
}

const redis = await startRedis({ useEnv: false })
async function runOnline(meterProvider: MeterProvider | undefined, round: number): Promise<number> {
  const features = [{ name: 'score', valueType: 'double' as const, strategy: 'cas' as const }]
  const tel: { meterProvider?: MeterProvider } = meterProvider === undefined ? {} : { meterProvider }
  const store = redisStore({ url: redis.url, prefix: `b${round}${meterProvider ? 's' : 'n'}:`, ...tel })
  const sink = onlineSink({ store, features, maxInFlightBatches: 8, ...tel })
  const c0 = process.cpuUsage()
  await writeAll(sink, updates, 1000)
  const cpu = process.cpuUsage(c0)
  await sink.close()
  await store.close()
  return (cpu.user + cpu.system) / 1000
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

const core = { noop: [] as number[], sdk: [] as number[], ratio: [] as number[] }
const online = { noop: [] as number[], sdk: [] as number[], ratio: [] as number[] }
let coreUpdates = 0
try {
  // Warm-up (JIT, Redis script cache), not counted.
  await runCore(undefined)
  await runOnline(undefined, -1)
  for (let r = 0; r < ROUNDS; r++) {
    const m = testMeter()
    // ABBA: odd rounds run the SDK first, so a drift in machine load does not favour one side.
    const sdkFirst = r % 2 === 1
    let a: { ms: number; updates: number }
    let b: { ms: number; updates: number }
    if (sdkFirst) {
      b = await collecting(m.collect, () => runCore(m.provider))
      a = await runCore(undefined)
    } else {
      a = await runCore(undefined)
      b = await collecting(m.collect, () => runCore(m.provider))
    }
    if (a.updates !== b.updates)
      throw new Error(`core: ${a.updates} updates without the SDK, ${b.updates} with`)
    coreUpdates = a.updates
    core.noop.push(a.ms)
    core.sdk.push(b.ms)
    core.ratio.push(b.ms / a.ms)
    let c: number
    let d: number
    if (sdkFirst) {
      d = await collecting(m.collect, () => runOnline(m.provider, r))
      c = await runOnline(undefined, r)
    } else {
      c = await runOnline(undefined, r)
      d = await collecting(m.collect, () => runOnline(m.provider, r))
    }
    online.noop.push(c)
    online.sdk.push(d)
    online.ratio.push(d / c)
    await m.shutdown()
    console.log(
      `round ${r + 1} (cpu ms): core noop ${a.ms.toFixed(0)}, sdk ${b.ms.toFixed(0)} (x${(b.ms / a.ms).toFixed(3)}); ` +
        `online noop ${c.toFixed(0)}, sdk ${d.toFixed(0)} (x${(d / c).toFixed(3)})`,
    )
  }
} finally {
  await redis.stop()
}

const row = (name: string, n: number, x: { noop: number[]; sdk: number[]; ratio: number[] }) =>
  `${name.padEnd(8)} ${String(n).padStart(10)} ${median(x.noop).toFixed(0).padStart(10)} ${median(x.sdk).toFixed(0).padStart(10)} ${median(x.ratio).toFixed(3).padStart(12)}`
console.log(
  `\n${'workload'.padEnd(8)} ${'items'.padStart(10)} ${'noop cpu ms'.padStart(10)} ${'sdk cpu ms'.padStart(10)} ${'sdk/noop'.padStart(12)}`,
)
console.log(row('core', EVENTS, core))
console.log(row('online', UPDATES, online))
console.log(
  JSON.stringify({
    bench: 'telemetry',
    rounds: ROUNDS,
    collectMs: COLLECT_MS,
    events: EVENTS,
    coreUpdates,
    updates: UPDATES,
    coreNoopCpuMs: Math.round(median(core.noop)),
    coreSdkCpuMs: Math.round(median(core.sdk)),
    coreSdkRatio: Number(median(core.ratio).toFixed(3)),
    onlineNoopCpuMs: Math.round(median(online.noop)),
    onlineSdkCpuMs: Math.round(median(online.sdk)),
    onlineSdkRatio: Number(median(online.ratio).toFixed(3)),
  }),
)
