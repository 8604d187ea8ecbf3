/**
 * `pnpm bench e2e [--events N] [--entities K] [--cluster] [--live-seconds S]`: the whole system on
 * this machine. Publishes N events (default 2M; K = 100k users; up to 2 s of disorder) into a
 * JetStream stream of 4 partitions (`e2e.<partition>.<user>`, file storage, its own nats-server),
 * then, in the same run:
 *   (a) ceiling: the 4 partitions read with `natsPartitionSources` and decoded (JSON), nothing else;
 *   (b) 1 worker process owning the 4 partitions: pipeline → online sink → Redis (changelog per
 *       partition) → changelog committer → Parquet log per partition, checkpoint every 1 s;
 *   (c) 2 worker processes, 2 partitions each, same stack (Redis flushed, new log);
 *   (d) freshness: 2 workers over a second stream published live at half the 2-worker rate for S
 *       seconds (default 10), events stamped when published: `availableTime − eventTime` of the
 *       applied writes (the sink's freshness histogram), i.e. publish → NATS → pipeline → Redis.
 * Rates are events / wall time from the worker's start (after its imports) until every partition
 * read its last event and committed its final checkpoint. `checkpoint_p99_ms` is the stream's pause
 * per checkpoint (operator snapshot at a batch boundary) over (b); the commit latency
 * (snapshot → sinks flushed → log commit) is in the table. Redis is one standalone server by default,
 * a 3-master Cluster with 16 buckets with `--cluster`.
 *
 * Last line: {"bench":"e2e","events":N,"ceiling_events_per_s":A,"events_per_s_1w":B,
 * "events_per_s_2w":C,"ratio_vs_ceiling":B/A,"checkpoint_p99_ms":D,"freshness_p99_ms":E}
 * Env: BENCH_CPU_PROF=<dir> runs the workers under `node --cpu-prof --cpu-prof-dir <dir>`.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { ResumableSource } from '@skewless/core'
import { Cluster, Redis } from 'ioredis'
import { startRedisCluster } from '../packages/adapter-tests/src/online/redis-cluster.js'
import { startRedis } from '../packages/adapter-tests/src/online/redis-server.js'
import { natsPartitionSources } from '../packages/source-nats/src/index.ts'
import { createStream, jetstream } from '../packages/source-nats/test/fixtures.ts'
import { startNats } from '../packages/source-nats/test/nats-server.ts'
import { type BenchEvent, backlogEvent, partitionOf } from './lib/e2e-events.ts'
import type { E2eWorkerConfig, E2eWorkerResult } from './lib/e2e-worker.ts'

const { values: args } = parseArgs({
  args: process.argv.slice(3),
  options: {
    events: { type: 'string', default: process.env.BENCH_EVENTS ?? '2000000' },
    entities: { type: 'string', default: '100000' },
    cluster: { type: 'boolean', default: false },
    'live-seconds': { type: 'string', default: '10' },
    'checkpoint-ms': { type: 'string', default: '1000' },
    only: { type: 'string' },
  },
})
const N = Number(args.events)
const ENTITIES = Number(args.entities)
const LIVE_SECONDS = Number(args['live-seconds'])
const CHECKPOINT_MS = Number(args['checkpoint-ms'])
const PARTITIONS = 4
const DISORDER_MS = 2000
const STEP_MS = 1
const here = dirname(fileURLToPath(import.meta.url))
const silent = { info() {}, warn() {}, error() {} }
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')

console.error(
  `bench e2e: ${N} events, ${ENTITIES} entities, ${args.cluster ? 'Redis Cluster' : 'Redis'}; load ${load()}`,
)
const nats = await startNats()
const redis = args.cluster ? await startRedisCluster({ nodes: 3 }) : await startRedis({ useEnv: false })
const redisTarget: E2eWorkerConfig['redis'] =
  'nodes' in redis ? { cluster: [...redis.nodes], buckets: 16 } : { url: redis.url }
const root = mkdtempSync(join(tmpdir(), 'skewless-bench-e2e-'))
const nc = await nats.connect()
const js = jetstream(nc)

/** Publish events `make(0..count-1)` to `stream`; returns the last sequence per partition. */
async function publish(
  stream: string,
  count: number,
  make: (i: number) => BenchEvent,
  pace?: { perS: number },
): Promise<number[]> {
  const prefix = stream.toLowerCase()
  const lastSeq = new Array<number>(PARTITIONS).fill(0)
  const window: Promise<void>[] = []
  const t0 = Date.now()
  for (let i = 0; i < count; i++) {
    if (pace && i % 100 === 0) {
      const due = t0 + (i / pace.perS) * 1000
      const wait = due - Date.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    }
    const e = make(i)
    const p = partitionOf(e.user, PARTITIONS)
    window.push(
      js.publish(`${prefix}.${p}.${e.user}`, JSON.stringify(e)).then((ack) => {
        if (ack.seq > (lastSeq[p] as number)) lastSeq[p] = ack.seq
      }),
    )
    if (window.length >= 2000) await Promise.all(window.splice(0, 1000))
  }
  await Promise.all(window)
  return lastSeq
}

await createStream(nc, 'E2E', ['e2e.*.*'])
const T0 = Date.now() - N * STEP_MS
const pubStart = performance.now()
const lastSeq = await publish('E2E', N, (i) => backlogEvent(i, T0, ENTITIES, STEP_MS, DISORDER_MS))
const publishPerS = N / ((performance.now() - pubStart) / 1000)
console.error(`published ${N} events at ${Math.round(publishPerS)}/s; load ${load()}`)

/** (a) The ceiling: the 4 partitions read and decoded at once, nothing else; best of `rounds`. */
async function ceiling(rounds: number): Promise<{ perS: number; cpuUsPerEvent: number }> {
  let best = { perS: 0, cpuUsPerEvent: Number.POSITIVE_INFINITY }
  for (let r = 0; r < rounds; r++) {
    const sources = natsPartitionSources<BenchEvent>({
      servers: nats.url,
      stream: 'E2E',
      partitions: [0, 1, 2, 3],
      partitionSubject: 'e2e.{partition}.*',
      batchSize: 1000,
      logger: silent,
    })
    const t = performance.now()
    const cpu = process.cpuUsage()
    const counts = await Promise.all(
      sources.map(async (s: ResumableSource<BenchEvent>, p) => {
        let n = 0
        const ac = new AbortController()
        for await (const b of s.open(undefined, { signal: ac.signal })) {
          n += b.events.length
          if ((b.position as number) >= (lastSeq[p] as number)) break
        }
        ac.abort()
        return n
      }),
    )
    const read = counts.reduce((a, b) => a + b, 0)
    if (read !== N) throw new Error(`ceiling read ${read} of ${N}`)
    const used = process.cpuUsage(cpu)
    best = {
      perS: Math.max(best.perS, N / ((performance.now() - t) / 1000)),
      cpuUsPerEvent: Math.min(best.cpuUsPerEvent, (used.user + used.system) / N),
    }
  }
  return best
}

async function flushRedis() {
  if ('nodes' in redis) {
    const c = new Cluster([...redis.nodes], { scaleReads: 'master' })
    await Promise.all(c.nodes('master').map((n) => n.flushall()))
    c.disconnect()
  } else {
    const c = new Redis(redis.url)
    await c.flushall()
    c.disconnect()
  }
}

function worker(config: E2eWorkerConfig): {
  child: ChildProcess
  ready: Promise<void>
  result: Promise<E2eWorkerResult>
} {
  const prof = process.env.BENCH_CPU_PROF
  const child = spawn(
    process.execPath,
    [
      ...(prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : []),
      '--import',
      'tsx',
      join(here, 'lib', 'e2e-worker.ts'),
      JSON.stringify(config),
    ],
    { cwd: join(here, '..'), stdio: ['ignore', 'pipe', 'inherit'] },
  )
  let out = ''
  let markReady = () => {}
  const ready = new Promise<void>((resolve) => {
    markReady = resolve
  })
  child.stdout?.on('data', (d) => {
    out += String(d)
    if (out.includes('ready ')) markReady()
  })
  const result = new Promise<E2eWorkerResult>((resolve, reject) => {
    child.once('exit', (code, signal) => {
      const line = out.split('\n').find((l) => l.startsWith('result '))
      if (line === undefined)
        reject(new Error(`worker exited (${code ?? signal}) without a result: ${out.slice(-2000)}`))
      else resolve(JSON.parse(line.slice('result '.length)) as E2eWorkerResult)
    })
  })
  return { child, ready, result }
}

async function workers(
  stream: string,
  owners: number[][],
  logRoot: string,
  last: number[],
  during?: () => Promise<void>,
): Promise<{ perS: number; results: E2eWorkerResult[] }> {
  const ws = owners.map((partitions) =>
    worker({
      natsUrl: nats.url,
      stream,
      partitions,
      lastSeq: last,
      redis: redisTarget,
      logRoot,
      checkpointMs: CHECKPOINT_MS,
    }),
  )
  if (during) {
    await Promise.race([Promise.all(ws.map((w) => w.ready)), Promise.all(ws.map((w) => w.result))])
    await during()
  }
  const results = await Promise.all(ws.map((w) => w.result))
  const events = results.reduce((a, r) => a + r.eventsIn, 0)
  const span = Math.max(...results.map((r) => r.endedAt)) - Math.min(...results.map((r) => r.startedAt))
  return { perS: events / (span / 1000), results }
}

const pct = (xs: number[], p: number) => {
  const s = xs.slice().sort((a, b) => a - b)
  return s.length === 0
    ? Number.NaN
    : (s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number)
}
const r1 = (x: number) => Math.round(x * 10) / 10

// `--only 1w` (e.g. under BENCH_CPU_PROF): the publish and that phase alone.
const skip = (phase: string) => args.only !== undefined && args.only !== phase
const none = { perS: Number.NaN, results: [] as E2eWorkerResult[] }
const ceil = skip('ceiling') ? { perS: Number.NaN, cpuUsPerEvent: Number.NaN } : await ceiling(2)
console.error(`(a) ceiling ${Math.round(ceil.perS)}/s; load ${load()}`)
await flushRedis()
const one = skip('1w') ? none : await workers('E2E', [[0, 1, 2, 3]], join(root, 'log-1w'), lastSeq)
console.error(`(b) 1 worker ${Math.round(one.perS)}/s; load ${load()}`)
await flushRedis()
const two = skip('2w')
  ? none
  : await workers(
      'E2E',
      [
        [0, 1],
        [2, 3],
      ],
      join(root, 'log-2w'),
      lastSeq,
    )
console.error(`(c) 2 workers ${Math.round(two.perS)}/s; load ${load()}`)

// (d) Live: a new stream published at half the 2-worker rate while 2 workers read it.
if (!skip('live')) {
  await flushRedis()
  await createStream(nc, 'LIVE', ['live.*.*'])
}
const liveRate = Math.max(1000, Math.round((Number.isNaN(two.perS) ? 2000 : two.perS) / 2))
const liveN = liveRate * LIVE_SECONDS
// Sequences are predictable (one publisher, acks checked): the workers are told where each partition ends.
const liveLast = new Array<number>(PARTITIONS).fill(0)
const liveUser = (i: number) => backlogEvent(i, 0, ENTITIES, 1, 0).user
for (let i = 0; i < liveN; i++) liveLast[partitionOf(liveUser(i), PARTITIONS)] = i + 1
let livePublished = 0
const live = skip('live')
  ? none
  : await workers(
      'LIVE',
      [
        [0, 1],
        [2, 3],
      ],
      join(root, 'log-live'),
      liveLast,
      async () => {
        const t = performance.now()
        const last = await publish(
          'LIVE',
          liveN,
          (i) => ({ user: liveUser(i), ts: Date.now(), amount: i % 10_000 }),
          { perS: liveRate },
        )
        livePublished = liveN / ((performance.now() - t) / 1000)
        if (last.some((s, p) => s !== liveLast[p]))
          throw new Error(`live sequences ${last} != expected ${liveLast}`)
      },
    )
const freshP99 = Math.max(...live.results.flatMap((r) => r.freshness.map((f) => f.p99)))
const freshP50 = Math.max(...live.results.flatMap((r) => r.freshness.map((f) => f.p50)))
console.error(
  `(d) live ${Math.round(livePublished)}/s published, freshness p99 ${r1(freshP99)} ms; load ${load()}`,
)

await nc.close()
await nats.stop()
await redis.stop()
rmSync(root, { recursive: true, force: true })

const r: E2eWorkerResult = one.results[0] ?? {
  startedAt: 0,
  endedAt: 0,
  eventsIn: 0,
  updatesOut: 0,
  pausesMs: [],
  commitsMs: [],
  freshness: [],
  writeLatency: [],
  retries: 0,
  cpuUs: 0,
}
const checkpointP99 = pct(r.pausesMs, 99)
const row = (name: string, perS: number, extra: string) =>
  console.log(`${name.padEnd(34)} ${Math.round(perS).toLocaleString('en').padStart(11)} events/s  ${extra}`)
console.log(
  `e2e: ${N.toLocaleString('en')} events, ${ENTITIES.toLocaleString('en')} users, 4 partitions, ${args.cluster ? '3-master Redis Cluster (16 buckets)' : 'standalone Redis'}`,
)
row('publish (JetStream acks)', publishPerS, '')
row('(a) ceiling: read + decode JSON', ceil.perS, `${ceil.cpuUsPerEvent.toFixed(2)} µs CPU/event`)
row(
  '(b) 1 worker → Redis + Parquet',
  one.perS,
  `${(r.cpuUs / r.eventsIn).toFixed(2)} µs CPU/event, ${r.updatesOut.toLocaleString('en')} updates, ${r.retries} retries`,
)
row(
  '(c) 2 workers → Redis + Parquet',
  two.perS,
  two.results.map((x) => `${(x.cpuUs / x.eventsIn).toFixed(2)} µs CPU/event`).join(', '),
)
row(
  '(d) live, published',
  livePublished,
  `freshness p50 ${r1(freshP50)} ms, p99 ${r1(freshP99)} ms (worst partition)`,
)
console.log(
  `checkpoints in (b): ${r.pausesMs.length}; pause p50 ${r1(pct(r.pausesMs, 50))} ms, p99 ${r1(checkpointP99)} ms, max ${r1(Math.max(...r.pausesMs))} ms; ` +
    `commit p50 ${r1(pct(r.commitsMs, 50))} ms, p99 ${r1(pct(r.commitsMs, 99))} ms`,
)
console.log(
  `store write latency p99 in (b), worst partition: ${r1(Math.max(...r.writeLatency.map((w) => w.p99)))} ms; load average now ${load()}`,
)
console.log(
  JSON.stringify({
    bench: 'e2e',
    events: N,
    ceiling_events_per_s: Math.round(ceil.perS),
    events_per_s_1w: Math.round(one.perS),
    events_per_s_2w: Math.round(two.perS),
    ratio_vs_ceiling: Math.round((one.perS / ceil.perS) * 1000) / 1000,
    checkpoint_p99_ms: r1(checkpointP99),
    freshness_p99_ms: r1(freshP99),
  }),
)
