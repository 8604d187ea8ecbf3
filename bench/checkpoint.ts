/**
 * `pnpm bench checkpoint`: what checkpoints cost while the stream flows. A paced source
 * (CHECKPOINT_RATE events/s, default 100k, for CHECKPOINT_SECONDS, default 20) over
 * CHECKPOINT_ENTITIES entities (default 50k) runs through the pipeline into a real redis-server
 * (changelog on) and, through the changelog committer, a Parquet log that commits a checkpoint
 * every CHECKPOINT_INTERVAL_MS (default 1000).
 *
 * Per checkpoint: the pause of the stream (the operator snapshot at a batch boundary: the loop
 * does nothing else meanwhile) and the commit latency (snapshot → sinks flushed → changelog drained
 * → log commit durable), the time a crash may have to replay. Last line:
 * {"bench":"checkpoint","events":N,"events_per_s":R,"checkpoints":C,"pause_p50_ms":..,"pause_p99_ms":..,
 *  "commit_p50_ms":..,"commit_p99_ms":..}
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type CommittedCheckpoint,
  count,
  createPipeline,
  defineFeatures,
  hopping,
  offsetSource,
  sum,
} from '@skewless/core'
import { memoryLog } from '@skewless/offline-log'
import { parquetLog } from '@skewless/offline-parquet'
import { redisStore } from '@skewless/online-redis'
import { changelogCommitter, onlineFeatures, onlineSink } from '@skewless/online-sink'
import { startRedis } from '../packages/adapter-tests/src/online/redis-server.js'

const RATE = Number(process.env.CHECKPOINT_RATE ?? 100_000)
const SECONDS = Number(process.env.CHECKPOINT_SECONDS ?? 20)
const ENTITIES = Number(process.env.CHECKPOINT_ENTITIES ?? 50_000)
const INTERVAL = Number(process.env.CHECKPOINT_INTERVAL_MS ?? 1000)
const BATCH = 1000
const N = RATE * SECONDS

interface Ev {
  user: string
  ts: number
  amount: number
}
const T0 = Date.now() - 3_600_000
const features = defineFeatures<Ev>({
  entity: (e) => e.user,
  eventTime: (e) => e.ts,
  features: {
    clicks_5m: { window: hopping('5m', '1m'), aggregate: count() },
    amount_1h: { window: hopping('1h', '10m'), aggregate: sum(), value: (e) => e.amount, emit: 'tiles' },
  },
})

const server = await startRedis({ useEnv: false })
const dir = mkdtempSync(join(tmpdir(), 'skewless-bench-checkpoint-'))
const store = redisStore({ url: server.url, changelog: true })
// CHECKPOINT_LOG=memory: the memory log, to tell the log's cost from the rest.
const log =
  process.env.CHECKPOINT_LOG === 'memory'
    ? memoryLog({ features: features.describe() })
    : await parquetLog({ dir, features: features.describe() })
// Each log commit the committer makes: rows and duration.
const logCommits: { rows: number; ms: number }[] = []
const timedLog = {
  async appendMarked(...a: Parameters<typeof log.appendMarked>) {
    const t = performance.now()
    await log.appendMarked(...a)
    logCommits.push({ rows: a[0].length, ms: performance.now() - t })
  },
  readMarks: () => log.readMarks(),
}
const committer = changelogCommitter({ store, log: timedLog })
const sink = onlineSink({ store, features: onlineFeatures(features.describe()) })

const pauses: number[] = []
const commits: number[] = []
/** From the snapshot until the sinks acknowledged what it covers (the rest is the log commit). */
const flushes: number[] = []
let pipeline: ReturnType<typeof createPipeline> | undefined
const checkpoints = {
  latestCheckpoint: () => committer.latestCheckpoint(),
  async commitCheckpoint(cp: CommittedCheckpoint) {
    pauses.push(pipeline?.metrics().checkpointPauseMs ?? 0)
    flushes.push(Date.now() - cp.takenAt)
    await committer.commitCheckpoint(cp)
    commits.push(Date.now() - cp.takenAt)
  },
}
// Paced: batch k is due at start + k * BATCH / RATE; a late batch is sent at once (no catch-up sleep).
const started = Date.now()
const source = offsetSource<Ev>(
  'events',
  async function* (from) {
    let x = 0x9e3779b9 ^ from
    for (let i = from; i < N; i += BATCH) {
      const due = started + (i / RATE) * 1000
      const wait = due - Date.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      const batch: Ev[] = new Array(Math.min(BATCH, N - i))
      for (let j = 0; j < batch.length; j++) {
        x ^= x << 13
        x ^= x >>> 17
        x ^= x << 5
        const k = i + j
        batch[j] = {
          user: `u${(x >>> 0) % ENTITIES}`,
          ts: T0 + Math.floor((k * 1000) / RATE),
          amount: (x >>> 8) % 100,
        }
      }
      yield batch
    }
  },
  { batchSize: BATCH },
)
pipeline = createPipeline({
  source,
  features,
  sink,
  checkpoints,
  checkpointInterval: INTERVAL,
  watermark: { outOfOrderness: '5s' },
})
const result = await pipeline.run()
const elapsed = (Date.now() - started) / 1000
await pipeline.close()
await committer.close()
await log.close()
await store.close()
await server.stop()
rmSync(dir, { recursive: true, force: true })

const pct = (xs: number[], p: number) => {
  const s = xs.slice().sort((a, b) => a - b)
  return s.length === 0
    ? Number.NaN
    : (s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number)
}
const r2 = (x: number) => Math.round(x * 100) / 100
const eventsPerS = Math.round(result.metrics.eventsIn / elapsed)
console.table({
  'offered rate (events/s)': RATE,
  'achieved rate (events/s)': eventsPerS,
  entities: ENTITIES,
  checkpoints: commits.length,
  'pause p50 / p99 (ms)': `${r2(pct(pauses, 50))} / ${r2(pct(pauses, 99))}`,
  'flush part p50 / p99 (ms)': `${r2(pct(flushes, 50))} / ${r2(pct(flushes, 99))}`,
  'commit p50 / p99 (ms)': `${r2(pct(commits, 50))} / ${r2(pct(commits, 99))}`,
  'log rows': committer.metrics().writes,
  'log commits, rows p50, ms p50 / max': `${logCommits.length}, ${pct(
    logCommits.map((c) => c.rows),
    50,
  )}, ${r2(
    pct(
      logCommits.map((c) => c.ms),
      50,
    ),
  )} / ${r2(Math.max(0, ...logCommits.map((c) => c.ms)))}`,
})
console.log(
  JSON.stringify({
    bench: 'checkpoint',
    events: result.metrics.eventsIn,
    events_per_s: eventsPerS,
    checkpoints: commits.length,
    pause_p50_ms: r2(pct(pauses, 50)),
    pause_p99_ms: r2(pct(pauses, 99)),
    flush_p50_ms: r2(pct(flushes, 50)),
    flush_p99_ms: r2(pct(flushes, 99)),
    commit_p50_ms: r2(pct(commits, 50)),
    commit_p99_ms: r2(pct(commits, 99)),
  }),
)
