/**
 * The clickstream example, end to end on real servers:
 *
 *   producer ─► JetStream stream CLICKS, 4 partitions (clicks.<partition>.<user>)
 *                  │ partitions 0,1                 │ partitions 2,3
 *                  ▼                                ▼
 *              worker A (process)               worker B (process)      runWorker: one pipeline,
 *                  │                                │                   checkpoint and log per partition
 *                  ├──► Redis (standalone, or Cluster with --cluster) ◄─┤
 *                  ▼                                ▼
 *              <out>/clicks-log/partition=0,1   <out>/clicks-log/partition=2,3
 *                                   │
 *              online features ◄── Redis       training set ◄── as-of join over every partition
 *
 * Usage (from the repository root; a nats-server -js and a Redis must be running):
 *   npx tsx examples/clickstream/src/main.ts [--nats url] [--redis url | --cluster host:port,...]
 *     [--out dir] [--events n] [--users n] [--reset]
 * The last line it prints is `RESULT <json>`: what it read online and the training rows.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { connect } from '@nats-io/transport-node'
import { asOfJoin } from '@skewless/asof-join'
import { openPartitionedLog } from '@skewless/offline-parquet'
import { onlineReader } from '@skewless/online-sink'
import {
  clickAt,
  createStream,
  featureNames,
  features,
  onlineConfigs,
  parseNodes,
  produce,
  type RedisTarget,
  store,
} from './clickstream.js'

const here = dirname(fileURLToPath(import.meta.url))
const began = Date.now()
/** Seconds since the example started, for the progress lines. */
const at = () => `[+${((Date.now() - began) / 1000).toFixed(1)} s]`
const { values } = parseArgs({
  options: {
    nats: { type: 'string', default: 'nats://127.0.0.1:4222' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    cluster: { type: 'string' },
    out: { type: 'string' },
    events: { type: 'string', default: '8000' },
    users: { type: 'string', default: '50' },
    reset: { type: 'boolean', default: false },
  },
})
const EVENTS = Number(values.events)
const USERS = Number(values.users)
const STEP_MS = 50
const target: RedisTarget = values.cluster ? { cluster: parseNodes(values.cluster) } : { url: values.redis }
const out =
  values.out === undefined ? await mkdtemp(join(tmpdir(), 'skewless-clickstream-')) : resolve(values.out)
const logDir = join(out, 'clicks-log')
await mkdir(out, { recursive: true })
if ((await readdir(logDir).catch(() => [])).length > 0) {
  console.error(`${logDir} already holds a log: give another --out (its checkpoints belong to another run)`)
  process.exit(2)
}

// Events end about now: the stream is "live", not history.
const t0 = Date.now() - EVENTS * STEP_MS
const click = (i: number) => clickAt(i, t0, USERS, STEP_MS)

// ── The stream ──────────────────────────────────────────────────────────────────────────────────
const nc = await connect({ servers: values.nats })
await createStream(nc, values.reset)
console.log(
  `${at()} stream CLICKS ready on ${values.nats} (4 partitions); online store: ${'url' in target ? target.url : `Redis Cluster ${values.cluster}`}`,
)

// ── Two worker processes ─────────────────────────────────────────────────────────────────────────
interface WorkerProcess {
  name: string
  child: ChildProcess
  health: Promise<string>
  exit: Promise<number | null>
}
const children: ChildProcess[] = []
process.once('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
})
function startWorker(name: string, partitions: string): WorkerProcess {
  const redisArgs = values.cluster ? ['--cluster', values.cluster] : ['--redis', values.redis]
  // The same Node flags as this process (tsx's loader), so the worker runs from source like it.
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      join(here, 'worker.ts'),
      '--nats',
      values.nats,
      ...redisArgs,
      '--log',
      logDir,
      '--partitions',
      partitions,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  children.push(child)
  let text = ''
  const health = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (d) => {
      text += String(d)
      const m = /^health (\S+)$/m.exec(text)
      if (m) resolve(m[1] as string)
    })
    child.once('exit', (code) => reject(new Error(`worker ${name} exited (${code}) before it ran`)))
  })
  // Awaited after the producer ran; a worker failing before that must not be an unhandled rejection.
  health.catch(() => undefined)
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  return { name, child, health, exit }
}
const workers = [startWorker('A', '0,1'), startWorker('B', '2,3')]

// ── Produce (while the workers start), and wait until they processed everything ──────────────────
const produced = Date.now()
await produce(nc, 0, EVENTS, click)
console.log(`${at()} produced ${EVENTS} clicks of ${USERS} users in ${Date.now() - produced} ms`)
const urls = await Promise.all(workers.map((w) => w.health))
console.log(
  `${at()} worker A (partitions 0,1): ${urls[0]}/healthz\nworker B (partitions 2,3): ${urls[1]}/healthz`,
)
interface Metrics {
  totals: { eventsIn: number }
  byPartition: { sink?: { buffered: number } }[]
}
const deadline = Date.now() + 60_000
for (;;) {
  const ms = await Promise.all(urls.map(async (u) => (await (await fetch(`${u}/metrics`)).json()) as Metrics))
  const read = ms.reduce((a, m) => a + m.totals.eventsIn, 0)
  if (read >= EVENTS && ms.every((m) => m.byPartition.every((p) => p.sink?.buffered === 0))) break
  if (Date.now() > deadline) throw new Error(`the workers read ${read} of ${EVENTS} clicks in 60 s`)
  await new Promise((r) => setTimeout(r, 100))
}
console.log(
  `${at()} the workers processed every click ${Date.now() - produced} ms after the first was produced`,
)

// SIGTERM: each worker commits a checkpoint of its partitions (with the changelog moved into the
// log) and exits by itself.
for (const w of workers) w.child.kill('SIGTERM')
const codes = await Promise.all(workers.map((w) => w.exit))
if (codes.some((c) => c !== 0)) throw new Error(`workers exited with ${codes.join(', ')}`)
console.log(`${at()} both workers stopped cleanly (SIGTERM: checkpoint, close, exit 0)`)
await nc.close()

// ── Online features ──────────────────────────────────────────────────────────────────────────────
const sample = Array.from({ length: 5 }, (_, i) => `user-${String(i * 7).padStart(3, '0')}`)
const reader = store(target)
const readTime = Date.now()
const vectors = await onlineReader({ store: reader, features: onlineConfigs }).get(sample, featureNames)
await reader.close()
const online: Record<string, Record<string, unknown>> = {}
for (const v of vectors) {
  online[v.entity] = Object.fromEntries(featureNames.map((f) => [f, v.values[f]?.value ?? null]))
}
console.log(`\n${at()} == Online features (Redis)`)
console.table(online)

// ── Training set: an as-of join over every partition of the log ──────────────────────────────────
const log = await openPartitionedLog({ root: logDir, features: features.describe(), workers: 0 })
const labels = sample.flatMap((user) => [
  { entity: user, time: t0 - 1 }, // before any click: nothing was available
  { entity: user, time: readTime }, // after the workers stopped: what Redis served
])
const table = await asOfJoin(labels, log, { features: featureNames, definitions: features.describe() })
const training = table.toArray().map((r) => {
  const row: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(r.toJSON() as Record<string, unknown>))
    row[k] = typeof v === 'bigint' ? Number(v) : v
  return row
})
console.log(
  `\n${at()} == Training set (as-of join over partitions ${log.partitions.join(', ')} of ${logDir})`,
)
console.table(training)
await log.close()
if (values.out === undefined) await rm(out, { recursive: true, force: true })
else console.log(`the log stays in ${logDir}`)

console.log(
  `RESULT ${JSON.stringify({ t0, stepMs: STEP_MS, events: EVENTS, users: USERS, readTime, online, training })}`,
)
