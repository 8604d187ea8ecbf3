/**
 * A worker process of `pnpm bench e2e`: owns some partitions of the benchmark's JetStream stream
 * and runs them into Redis (one changelog per partition) and a Parquet log `<logRoot>/partition=<p>`,
 * each partition's source ending at a given stream sequence, so the run is bounded. Prints
 * `ready <epoch ms>` once the worker runs, then `result <json>` when every partition is committed.
 *
 * Checkpoints are sampled from the worker's metrics every 20 ms: each new checkpoint's pause (the
 * operator snapshot at a batch boundary) and commit latency (snapshot → sinks flushed → log commit).
 *
 * argv[2]: JSON of `E2eWorkerConfig`. Env BENCH_E2E_DEBUG=1: each partition's source counters
 * (messages, pauses, consumer resets) on stderr at the end.
 */
import type { PositionedBatch, ResumableSource } from '@skewless/core'
import { redisStore } from '@skewless/online-redis'
import type { HistogramSnapshot } from '@skewless/online-sink'
import { natsPartitionSources } from '../../packages/source-nats/src/index.ts'
import { runWorker } from '../../packages/worker/src/index.ts'
import { type BenchEvent, benchFeatures } from './e2e-events.ts'

/** What a bench worker is told. */
export interface E2eWorkerConfig {
  natsUrl: string
  stream: string
  partitions: number[]
  /** Stream sequence of the last message of each partition (index = partition). */
  lastSeq: number[]
  redis: { url: string } | { cluster: { host: string; port: number }[]; buckets: number }
  logRoot: string
  checkpointMs: number
}

/** What it reports. */
export interface E2eWorkerResult {
  startedAt: number
  endedAt: number
  eventsIn: number
  updatesOut: number
  pausesMs: number[]
  commitsMs: number[]
  /** Per partition: `availableTime − eventTime` of applied writes. */
  freshness: HistogramSnapshot[]
  writeLatency: HistogramSnapshot[]
  retries: number
  cpuUs: number
}

const config = JSON.parse(process.argv[2] as string) as E2eWorkerConfig
const silent = { info() {}, warn() {}, error: (o: object, m?: string) => console.error(m, o) }

/** The partition's source, ending once it has read the partition's last sequence. */
function bounded(
  inner: ResumableSource<BenchEvent>,
  last: number,
): ResumableSource<BenchEvent> & { metrics(): unknown } {
  return {
    name: inner.name,
    // The source's counters (pauses, messages) reach the worker's metrics through the wrapper.
    metrics: () => (inner as { metrics?: () => unknown }).metrics?.(),
    async *open(from, options) {
      if (typeof from === 'number' && from >= last) return
      for await (const b of inner.open(from, options) as AsyncIterable<PositionedBatch<BenchEvent>>) {
        yield b
        if ((b.position as number) >= last) return
      }
    },
  }
}

const cpu0 = process.cpuUsage()
const startedAt = Date.now()
const worker = await runWorker<BenchEvent>({
  definitions: benchFeatures,
  partitions: config.partitions,
  source: (p) =>
    bounded(
      natsPartitionSources<BenchEvent>({
        servers: config.natsUrl,
        stream: config.stream,
        partitions: [p],
        partitionSubject: `${config.stream.toLowerCase()}.{partition}.*`,
        batchSize: 1000,
        logger: silent,
      })[0] as ResumableSource<BenchEvent>,
      config.lastSeq[p] as number,
    ),
  store: (p) =>
    'url' in config.redis
      ? redisStore({ url: config.redis.url, changelog: { name: `p${p}` } })
      : redisStore({
          cluster: config.redis.cluster,
          buckets: config.redis.buckets,
          changelog: { name: `p${p}` },
        }),
  log: config.logRoot,
  checkpointInterval: config.checkpointMs,
  watermark: { outOfOrderness: '5s' },
  logger: false,
})
process.stdout.write(`ready ${startedAt}\n`)

const pausesMs: number[] = []
const commitsMs: number[] = []
const seen = new Map<number, number>()
for (;;) {
  await new Promise((r) => setTimeout(r, 20))
  const m = worker.metrics()
  for (const p of m.byPartition) {
    const pm = p.pipeline
    if (pm !== undefined && pm.checkpoints !== (seen.get(p.partition) ?? 0)) {
      seen.set(p.partition, pm.checkpoints)
      pausesMs.push(pm.checkpointPauseMs)
      commitsMs.push(pm.checkpointCommitMs)
    }
  }
  const h = worker.health()
  if (h.status !== 'ok') throw new Error(`worker failing: ${JSON.stringify(h)}`)
  if (h.partitions.every((p) => p.state === 'completed')) break
}
const endedAt = Date.now()
const m = worker.metrics()
if (process.env.BENCH_E2E_DEBUG)
  for (const p of m.byPartition) console.error('source', p.partition, JSON.stringify(p.source))
await worker.close()
const cpu = process.cpuUsage(cpu0)
const result: E2eWorkerResult = {
  startedAt,
  endedAt,
  eventsIn: m.byPartition.reduce((a, p) => a + (p.pipeline?.eventsIn ?? 0), 0),
  updatesOut: m.byPartition.reduce((a, p) => a + (p.pipeline?.updatesOut ?? 0), 0),
  pausesMs,
  commitsMs,
  freshness: m.byPartition.flatMap((p) => (p.sink ? [p.sink.freshnessMs] : [])),
  writeLatency: m.byPartition.flatMap((p) => (p.sink ? [p.sink.writeLatencyMs] : [])),
  retries: m.byPartition.reduce((a, p) => a + (p.sink?.retries ?? 0), 0),
  cpuUs: cpu.user + cpu.system,
}
process.stdout.write(`result ${JSON.stringify(result)}\n`)
