/**
 * The main demo, on embedded defaults (no server needed):
 *
 *   click/purchase events ─► @skewless/core features ─► online sink ─► in-memory online store
 *                                                             │            ▲ reader (inference)
 *                                                             ▼            │ served values
 *                                                 Parquet offline log ◄────┘ skew audit
 *                                                             │
 *                                             as-of join ─► leak-free training set (Parquet)
 *
 * The first 6,000 events happened before the pipeline went live: they are backfilled into the log
 * with the same operators, the online store is materialized from the log, and the live pipeline
 * resumes from the backfill's checkpoint. Time is simulated: the rest of the stream is replayed
 * "live", so processing time follows event time plus a small processing lag, and every
 * `availableTime` the online sink stamps is meaningful.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { asOfJoin, skewAudit, writeParquet } from '@skewless/asof-join'
import {
  collectingSink,
  count,
  createPipeline,
  type DeadLetter,
  defineFeatures,
  hopping,
  type LateEvent,
  last,
  sum,
} from '@skewless/core'
import { backfill, materialize } from '@skewless/offline-log'
import { parquetLog } from '@skewless/offline-parquet'
import {
  memoryStore,
  onlineFeatures,
  onlineReader,
  onlineSink,
  type ServedRecord,
} from '@skewless/online-sink'

/** One event of the demo stream. */
interface ShopEvent {
  user: string
  ts: number
  kind: 'click' | 'purchase'
  page: string
  amount: number
}

const START = Date.UTC(2026, 10, 2, 9, 0, 0)
const USERS = 40
const EVENTS = 20_000
/** Events before the pipeline went live: backfilled, not replayed. */
const HISTORY = 6_000
/** Processing lag: the pipeline sees an event this long after it happened. */
const LAG_MS = 1_500

// A deterministic pseudo-random stream (mulberry32), with bounded disorder, one very late event and
// one malformed event, so the demo shows late-event and dead-letter handling too.
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const rand = rng(42)
const pages = ['home', 'search', 'product', 'cart', 'checkout']
const events: ShopEvent[] = []
let t = START
for (let i = 0; i < EVENTS; i++) {
  t += Math.floor(rand() * 700)
  const user = `user-${String(Math.floor(rand() ** 2 * USERS)).padStart(2, '0')}`
  const purchase = rand() < 0.05
  events.push({
    user,
    ts: t - Math.floor(rand() * 8_000), // up to 8 s out of order
    kind: purchase ? 'purchase' : 'click',
    page: pages[Math.floor(rand() * pages.length)] as string,
    amount: purchase ? Math.round(rand() * 20_000) / 100 : 0,
  })
}
events.splice(EVENTS / 2, 0, { user: 'user-01', ts: START, kind: 'click', page: 'home', amount: 0 }) // very late
const neighbour = events[Math.floor(EVENTS / 3)] as ShopEvent
events.splice(Math.floor(EVENTS / 3), 0, { ...neighbour, user: '' }) // no entity key: goes to the dead letters

// ── Features, defined once ────────────────────────────────────────────────────────────────────
const features = defineFeatures<ShopEvent>({
  entity: (e) => e.user,
  eventTime: (e) => e.ts,
  features: {
    clicks_5m: { window: hopping('5m', '1m'), aggregate: count() },
    spend_1h: { window: hopping('1h', '5m'), aggregate: sum(), value: (e) => e.amount },
    last_page_10m: { window: hopping('10m', '1m'), aggregate: last('string'), value: (e) => e.page },
  },
})
const featureNames = features.describe().map((f) => f.name)

// ── Online store, offline log, sink, reader ───────────────────────────────────────────────────
/**
 * Simulated processing time: follows the replayed stream (`advanceTo`), and like a real clock it
 * moves on between any two observations (+1 ms), so a read and a later acknowledgement never share
 * an instant. (With a frozen clock, a write acknowledged after a read would carry the read's time
 * and the audit would rightly flag the tie as ambiguous.)
 */
const clock = (() => {
  let now = START
  return {
    now: () => ++now,
    advanceTo(t: number) {
      if (t > now) now = t
    },
  }
})()
const dir = await mkdtemp(join(tmpdir(), 'skewless-demo-'))
const log = await parquetLog({ dir: join(dir, 'feature-log'), features: features.describe() })
const store = memoryStore({ clock })
// Every feature written with compare-and-set on (eventTime, version); the last page expires after 10 min.
const online = onlineFeatures(features.describe(), { last_page_10m: { ttlMs: 10 * 60_000 } })
const sink = onlineSink({ store, features: online, downstream: log, clock })
const served = collectingSink<ServedRecord>()
const reader = onlineReader({ store, features: online, clock, servedLog: served })
const late = collectingSink<LateEvent<ShopEvent>>()
const dead = collectingSink<DeadLetter<ShopEvent>>()

// ── History: backfill the log, materialize the online store ─────────────────────────────────
const WATERMARK = { outOfOrderness: '10s', allowedLateness: '5s' }
const history = events.slice(0, HISTORY)
async function* historyChunks(): AsyncGenerator<ShopEvent[]> {
  for (let i = 0; i < history.length; i += 200) yield history.slice(i, i + 200)
}
const backfilled = await backfill({
  source: historyChunks(),
  features,
  watermark: WATERMARK,
  log,
  availabilityDelay: LAG_MS, // as if served with the live pipeline's lag
  lateEvents: late,
  deadLetters: dead,
})
let historyEnd = START
for (const e of history) if (e.ts > historyEnd) historyEnd = e.ts
clock.advanceTo(historyEnd + LAG_MS)
// Load the store with what the log says it held at go-live (no downstream: the log has these).
const loader = onlineSink({ store, features: online, clock })
const loaded = await materialize({ log, sink: loader, at: clock.now(), features: featureNames })
await loader.close()

// The source replays the rest of the stream live: the clock follows the newest event plus the processing lag,
// and an "inference service" reads feature vectors after every chunk of 200 events. Simulated time runs thousands
// of times faster than the real milliseconds a store write takes, so the replay lets each chunk's
// writes land before time moves on; otherwise `availableTime` would charge real write latency at
// the simulated rate.
async function* replay(): AsyncGenerator<ShopEvent[]> {
  let maxTs = START
  for (let i = HISTORY; i < events.length; i += 200) {
    const chunk = events.slice(i, i + 200)
    for (const e of chunk) if (e.ts > maxTs) maxTs = e.ts
    clock.advanceTo(maxTs + LAG_MS)
    yield chunk
    await sink.flush()
    const who = [0, 1, 2, 3].map(() => `user-${String(Math.floor(rand() ** 2 * USERS)).padStart(2, '0')}`)
    await reader.get(who, featureNames)
  }
}

const pipeline = createPipeline({
  source: replay(),
  features,
  sink,
  lateEvents: late,
  deadLetters: dead,
  watermark: WATERMARK,
  clock,
  checkpoint: backfilled.checkpoint, // continue exactly where the backfill stopped
})
const result = await pipeline.run()
await pipeline.close() // flushes the sink, which flushes and closes the log

const m = result.metrics
const sm = sink.metrics()
console.log('\n== History')
console.table({
  'events backfilled': history.length,
  'records appended to the log': backfilled.records,
  'values materialized into the online store': loaded.records,
})
console.log('== Pipeline (counters include the backfill, restored from its checkpoint)')
console.table({
  'events in': m.eventsIn,
  'feature updates': m.updatesOut,
  'late events (sent to lateEvents)': m.lateEvents,
  'dead letters': `${m.deadLetters} (${dead.items.map((d) => d.reason).join('; ')})`,
})
console.log('== Online sink')
console.table({
  'writes to the store': sm.writes,
  applied: sm.applied,
  'stale (rejected by compare-and-set)': sm.stale,
  'coalesced (never sent)': sm.coalesced,
  'freshness p99 (availableTime − eventTime, simulated ms)': sm.freshnessMs.p99,
})

// ── Offline log on disk ───────────────────────────────────────────────────────────────────────
async function parquetFiles(d: string, out: string[] = []): Promise<string[]> {
  for (const e of await readdir(d, { withFileTypes: true })) {
    if (e.isDirectory()) await parquetFiles(join(d, e.name), out)
    else if (e.name.endsWith('.parquet')) out.push(join(d, e.name))
  }
  return out
}
const logDir = join(dir, 'feature-log')
const files = await parquetFiles(logDir)
let bytes = 0
for (const f of files) bytes += (await stat(f)).size
console.log(`== Offline log: ${files.length} Parquet files, ${bytes} bytes under ${dir}`)
for (const f of files.slice(0, 3)) console.log(`   ${relative(dir, f)}`)

// Every group commit wrote one small file per partition; compaction merges each feature=/date=
// partition into a few large sorted files (the pipeline closed the log, so reopen it to write).
const writable = await parquetLog({ dir: logDir, features: features.describe() })
const compaction = await writable.compact()
await writable.close()
console.log(
  `== Compaction: ${compaction.filesIn} files → ${compaction.filesOut} in ${compaction.partitions} partitions ` +
    `(${compaction.rows} rows, ${compaction.bytesIn} → ${compaction.bytesOut} bytes, ${Math.round(compaction.durationMs)} ms); ` +
    `now ${(await parquetFiles(logDir)).length} files`,
)

// ── Time travel ───────────────────────────────────────────────────────────────────────────────
const probe = START + 30 * 60_000
const state = await log.stateAt(probe, { features: featureNames, entities: ['user-00'] })
console.log(`\n== Time travel: user-00 as served at ${new Date(probe).toISOString()}`)
console.table(
  state.map((w) => ({
    feature: w.feature,
    value: w.value,
    eventTime: new Date(w.eventTime).toISOString(),
    availableTime: new Date(w.availableTime).toISOString(),
  })),
)

// ── Leak-free training set ────────────────────────────────────────────────────────────────────
// Labels: "did the user purchase?", observed at each purchase and at random instants.
const labels = { entity: [] as string[], time: [] as number[], purchased: [] as boolean[] }
for (const e of events) {
  if (!e.user) continue
  if (e.kind === 'purchase' || rand() < 0.02) {
    labels.entity.push(e.user)
    labels.time.push(e.ts)
    labels.purchased.push(e.kind === 'purchase')
  }
}
const training = await asOfJoin(labels, log, { features: featureNames, includeAge: true })
const leaky = await asOfJoin(labels, log, { features: featureNames, by: 'event' })
let leaks = 0
for (let i = 0; i < training.numRows; i++) {
  const a = training.get(i)?.clicks_5m
  const b = leaky.get(i)?.clicks_5m
  if (a !== b) leaks++
}
const out = join(dir, 'training.parquet')
await writeParquet(training, out)
console.log(`\n== Training set: ${training.numRows} label rows × ${training.numCols} columns → ${out}`)
const plain = (v: unknown) => (typeof v === 'bigint' ? Number(v) : v)
console.table(
  training
    .slice(0, 6)
    .toArray()
    .map((r) => Object.fromEntries(Object.entries(r.toJSON()).map(([k, v]) => [k, plain(v)]))),
)
console.log(
  `   ${leaks} of ${training.numRows} rows would have seen a clicks_5m value that was not yet available ` +
    `with a classic event-time as-of join (by: 'event'); the default by: 'available' never does.`,
)

// ── Skew audit: what the reader served vs what the log says was available then ─────────────
// The reader hides values past their TTL; the audit applies the same limit as a max age.
const maxAge: Record<string, number> = {}
for (const f of online) if (f.ttlMs !== undefined) maxAge[f.name] = f.ttlMs
const audit = await skewAudit(served.items, log, { maxAge })
console.log(`\n== Skew audit: ${audit.checked} served values checked, ${audit.mismatches.length} mismatches`)
for (const x of audit.mismatches.slice(0, 5)) console.log('  ', x)

await store.close()
if (!process.env.SKEWLESS_KEEP_DEMO) await rm(dir, { recursive: true, force: true })
else console.log(`(kept ${dir})`)
if (audit.mismatches.length > 0) process.exitCode = 1
