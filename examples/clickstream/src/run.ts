/**
 * The clickstream example as a function (`src/main.ts` is its command line; the test calls it):
 * create the stream, start two worker processes, produce, wait, stop the workers with SIGTERM, read
 * features online and build a training set over every partition of the log.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdir, readdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect } from '@nats-io/transport-node'
import { asOfJoin } from '@skewless/asof-join'
import type { FeatureValue } from '@skewless/core'
import { openPartitionedLog } from '@skewless/offline-parquet'
import { onlineReader } from '@skewless/online-sink'
import {
  clickAt,
  createStream,
  featureNames,
  features,
  onlineConfigs,
  produce,
  type RedisTarget,
  store,
} from './clickstream.js'

const here = dirname(fileURLToPath(import.meta.url))

/** Options of `runClickstream`. */
export interface ClickstreamOptions {
  /** NATS server URL (JetStream enabled). */
  nats: string
  /** The online store: a standalone Redis or a Cluster's nodes. */
  redis: RedisTarget
  /** Directory for the log (`<out>/clicks-log`); it must not hold a log yet. */
  out: string
  /** Clicks to produce. @default 8000 */
  events?: number
  /** Users they are spread over. @default 50 */
  users?: number
  /** Delete the stream first. @default false */
  reset?: boolean
  /** Node arguments that let a child process run TypeScript. @default this process's, or `--import tsx` */
  nodeArgs?: readonly string[]
  /** Where progress goes. @default console.log */
  print?: (line: string) => void
  /** Where tables go. @default console.table */
  table?: (rows: unknown) => void
}

/** What the example read and built. */
export interface ClickstreamResult {
  t0: number
  stepMs: number
  events: number
  users: number
  /** When the online features were read (also the time of the "after" labels). */
  readTime: number
  /** Online values of the sample users. */
  online: Record<string, Record<string, FeatureValue>>
  /** The training rows (entity, time, one column per feature). */
  training: Record<string, unknown>[]
  /** Partitions of the log the training set read. */
  partitions: number[]
}

export const STEP_MS = 50

export async function runClickstream(options: ClickstreamOptions): Promise<ClickstreamResult> {
  const began = Date.now()
  const print = options.print ?? ((l: string) => console.log(l))
  const table = options.table ?? ((rows: unknown) => console.table(rows))
  /** Seconds since the example started, for the progress lines. */
  const at = () => `[+${((Date.now() - began) / 1000).toFixed(1)} s]`
  const EVENTS = options.events ?? 8000
  const USERS = options.users ?? 50
  const target = options.redis
  const nodeArgs =
    options.nodeArgs ??
    (process.execArgv.some((a) => a.includes('tsx')) ? process.execArgv : ['--import', 'tsx'])
  const logDir = join(options.out, 'clicks-log')
  await mkdir(options.out, { recursive: true })
  if ((await readdir(logDir).catch(() => [])).length > 0) {
    throw new Error(
      `${logDir} already holds a log: give another --out (its checkpoints belong to another run)`,
    )
  }

  // Events end about now: the stream is "live", not history.
  const t0 = Date.now() - EVENTS * STEP_MS
  const click = (i: number) => clickAt(i, t0, USERS, STEP_MS)
  const redisArgs =
    'url' in target
      ? ['--redis', target.url]
      : ['--cluster', target.cluster.map((n) => `${n.host}:${n.port}`).join(',')]

  // ── Two worker processes, started first: they take the longest to boot ───────────────────────
  interface WorkerProcess {
    name: string
    child: ChildProcess
    health: Promise<string>
    exit: Promise<number | null>
  }
  const children: ChildProcess[] = []
  const killAll = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  }
  process.once('exit', killAll)
  function startWorker(name: string, partitions: string): WorkerProcess {
    const child = spawn(
      process.execPath,
      [
        ...nodeArgs,
        join(here, 'worker.ts'),
        '--nats',
        options.nats,
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

  const nc = await connect({ servers: options.nats })
  try {
    // ── The stream ───────────────────────────────────────────────────────────────────────────────
    await createStream(nc, options.reset ?? false)
    print(
      `${at()} stream CLICKS ready on ${options.nats} (4 partitions); online store: ${'url' in target ? target.url : `Redis Cluster ${redisArgs[1]}`}`,
    )
    const workers = [startWorker('A', '0,1'), startWorker('B', '2,3')]

    // ── Produce (while the workers start), and wait until they processed everything ────────────
    const produced = Date.now()
    await produce(nc, 0, EVENTS, click)
    print(`${at()} produced ${EVENTS} clicks of ${USERS} users in ${Date.now() - produced} ms`)
    const urls = await Promise.all(workers.map((w) => w.health))
    print(`${at()} worker A (partitions 0,1): ${urls[0]}/healthz`)
    print(`${at()} worker B (partitions 2,3): ${urls[1]}/healthz`)
    interface Metrics {
      totals: { eventsIn: number }
      byPartition: { sink?: { buffered: number } }[]
    }
    const deadline = Date.now() + 60_000
    for (;;) {
      const ms = await Promise.all(
        urls.map(async (u) => (await (await fetch(`${u}/metrics`)).json()) as Metrics),
      )
      const read = ms.reduce((a, m) => a + m.totals.eventsIn, 0)
      if (read >= EVENTS && ms.every((m) => m.byPartition.every((p) => p.sink?.buffered === 0))) break
      if (Date.now() > deadline) throw new Error(`the workers read ${read} of ${EVENTS} clicks in 60 s`)
      await new Promise((r) => setTimeout(r, 100))
    }
    print(
      `${at()} the workers processed every click ${Date.now() - produced} ms after the first was produced`,
    )

    // SIGTERM: each worker commits a checkpoint of its partitions (with the changelog moved into
    // the log) and exits by itself.
    for (const w of workers) w.child.kill('SIGTERM')
    const codes = await Promise.all(workers.map((w) => w.exit))
    if (codes.some((c) => c !== 0)) throw new Error(`workers exited with ${codes.join(', ')}`)
    print(`${at()} both workers stopped cleanly (SIGTERM: checkpoint, close, exit 0)`)
  } finally {
    killAll()
    process.off('exit', killAll)
    await nc.close()
  }

  // ── Online features ──────────────────────────────────────────────────────────────────────────
  const sample = Array.from({ length: 5 }, (_, i) => `user-${String(i * 7).padStart(3, '0')}`)
  const reader = store(target)
  const readTime = Date.now()
  const vectors = await onlineReader({ store: reader, features: onlineConfigs }).get(sample, featureNames)
  await reader.close()
  const online: Record<string, Record<string, FeatureValue>> = {}
  for (const v of vectors) {
    online[v.entity] = Object.fromEntries(featureNames.map((f) => [f, v.values[f]?.value ?? null]))
  }
  print(`\n${at()} == Online features (Redis)`)
  table(online)

  // ── Training set: an as-of join over every partition of the log ────────────────────────────────
  const log = await openPartitionedLog({ root: logDir, features: features.describe(), workers: 0 })
  try {
    const labels = sample.flatMap((user) => [
      { entity: user, time: t0 - 1 }, // before any click: nothing was available
      { entity: user, time: readTime }, // after the workers stopped: what Redis served
    ])
    const joined = await asOfJoin(labels, log, { features: featureNames, definitions: features.describe() })
    const training = joined.toArray().map((r) => {
      const row: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(r.toJSON() as Record<string, unknown>))
        row[k] = typeof v === 'bigint' ? Number(v) : v
      return row
    })
    print(`\n${at()} == Training set (as-of join over partitions ${log.partitions.join(', ')} of ${logDir})`)
    table(training)
    return {
      t0,
      stepMs: STEP_MS,
      events: EVENTS,
      users: USERS,
      readTime,
      online,
      training,
      partitions: [...log.partitions],
    }
  } finally {
    await log.close()
  }
}
