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
 *
 * Usage: `pnpm demo [--out <dir>]`. With `--out`, the feature log, the training set, the served
 * values and the freshness chart are kept in `<dir>` (for `pnpm skewless inspect <dir>/feature-log`
 * and friends); without it they live in a temp dir that is removed at the end.
 */
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { asOfJoin, skewAudit, writeParquet } from '@skewless/asof-join'
import {
  collectingSink,
  count,
  createPipeline,
  type DeadLetter,
  defineFeatures,
  type FeatureInfo,
  hopping,
  type LateEvent,
  last,
  sum,
} from '@skewless/core'
import { formatDuration, freshnessReport, renderFreshnessChart } from '@skewless/freshness'
import { backfill, materialize } from '@skewless/offline-log'
import { parquetLog } from '@skewless/offline-parquet'
import {
  memoryStore,
  onlineFeatures,
  onlineReader,
  onlineSink,
  type ServedRecord,
} from '@skewless/online-sink'
import { type DataType, Float64, Table, Utf8, vectorFromArray } from 'apache-arrow'

// ── Command line ──────────────────────────────────────────────────────────────────────────────
const USAGE = `usage: pnpm demo [--out <dir>]

  --out <dir>  keep what the demo writes in <dir> (created if missing; it must not hold a feature-log yet):
                 <dir>/feature-log       the offline log (pnpm skewless inspect <dir>/feature-log)
                 <dir>/training.parquet  the leak-free training set
                 <dir>/served.parquet    the values the reader served (pnpm skewless audit ... --served)
                 <dir>/freshness.svg     streaming vs hourly batch freshness chart
               without it, everything lives in a temp dir removed at the end
  -h, --help   this text`

function parseCommandLine(argv: string[]): { out?: string } {
  // `pnpm demo -- --out x` passes the `--` through: drop it.
  const args = argv[0] === '--' ? argv.slice(1) : argv
  try {
    const { values } = parseArgs({
      args,
      options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    })
    if (values.help) {
      console.log(USAGE)
      process.exit(0)
    }
    if (values.out === '') throw new Error('--out needs a directory')
    return values.out === undefined ? {} : { out: resolve(values.out) }
  } catch (err) {
    console.error(`demo: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`)
    process.exit(2)
  }
}
const cli = parseCommandLine(process.argv.slice(2))

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
/** Events per micro-batch the sources yield (history and live). */
const CHUNK = 200

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
    clicks_5m: {
      window: hopping('5m', '1m'),
      aggregate: count(),
      description: "the user's events (clicks and purchases) in the last 5 minutes",
    },
    spend_1h: {
      window: hopping('1h', '5m'),
      aggregate: sum(),
      value: (e) => e.amount,
      description: 'what the user spent on purchases in the last hour',
    },
    last_page_10m: {
      window: hopping('10m', '1m'),
      aggregate: last('string'),
      value: (e) => e.page,
      ttl: '10m', // the reader, the join and the audit all read it from here
      description: 'the page of the latest event in the last 10 minutes',
    },
  },
})
const featureNames = features.describe().map((f) => f.name)

const iso = (t: number | null | undefined) =>
  t === null || t === undefined ? null : new Date(t).toISOString()
function windowText(f: FeatureInfo): string {
  const w = f.window
  if (w.kind === 'hopping') return `hopping ${formatDuration(w.sizeMs)} every ${formatDuration(w.hopMs)}`
  if (w.kind === 'tumbling') return `tumbling ${formatDuration(w.sizeMs)}`
  if (w.kind === 'session') return `session, gap ${formatDuration(w.gapMs)}`
  return 'unbounded'
}
console.log(
  `Skewless demo: ${EVENTS} simulated shop events of ${USERS} users from ${iso(START)}; ` +
    `the first ${HISTORY} are history (backfilled), the rest arrive live.\n\n== Features`,
)
console.table(
  features.describe().map((f) => ({
    name: f.name,
    aggregate: `${f.aggregate} (${f.valueType})`,
    window: windowText(f),
    ttl: f.ttlMs === undefined ? '-' : formatDuration(f.ttlMs),
    description: f.description ?? '',
  })),
)

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
async function outputDir(out: string | undefined): Promise<string> {
  if (out === undefined) return mkdtemp(join(tmpdir(), 'skewless-demo-'))
  await mkdir(out, { recursive: true })
  const existing = await readdir(join(out, 'feature-log')).catch(() => [])
  if (existing.length > 0) {
    console.error(
      `demo: ${join(out, 'feature-log')} already holds a feature log; pass an empty or new --out directory (or delete it)`,
    )
    process.exit(2)
  }
  return out
}
const dir = await outputDir(cli.out)
const log = await parquetLog({ dir: join(dir, 'feature-log'), features: features.describe() })
const store = memoryStore({ clock })
// Every feature written with compare-and-set on (eventTime, version); TTLs come from the definitions.
const online = onlineFeatures(features.describe())
const sink = onlineSink({ store, features: online, downstream: log, clock })
const served = collectingSink<ServedRecord>()
const reader = onlineReader({ store, features: online, clock, servedLog: served })
const late = collectingSink<LateEvent<ShopEvent>>()
const dead = collectingSink<DeadLetter<ShopEvent>>()

// ── History: backfill the log, materialize the online store ─────────────────────────────────
const WATERMARK = { outOfOrderness: '10s', allowedLateness: '5s' }
const history = events.slice(0, HISTORY)
async function* historyChunks(): AsyncGenerator<ShopEvent[]> {
  for (let i = 0; i < history.length; i += CHUNK) yield history.slice(i, i + CHUNK)
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
// and an "inference service" reads feature vectors after every chunk of CHUNK events. Simulated time runs thousands
// of times faster than the real milliseconds a store write takes, so the replay lets each chunk's
// writes land before time moves on; otherwise `availableTime` would charge real write latency at
// the simulated rate.
/** Simulated time each live chunk spans (newest event of a chunk minus the previous chunk's). */
const chunkSpans: number[] = []
async function* replay(): AsyncGenerator<ShopEvent[]> {
  let maxTs = historyEnd
  for (let i = HISTORY; i < events.length; i += CHUNK) {
    const chunk = events.slice(i, i + CHUNK)
    const before = maxTs
    for (const e of chunk) if (e.ts > maxTs) maxTs = e.ts
    chunkSpans.push(maxTs - before)
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
  'went live at': iso(historyEnd + LAG_MS),
})
console.log('== Pipeline (counters include the backfill, restored from its checkpoint)')
console.table({
  'events in': m.eventsIn,
  'feature updates': m.updatesOut,
  'late events (sent to lateEvents)': m.lateEvents,
  'dead letters': `${m.deadLetters} (${dead.items.map((d) => d.message).join('; ')})`,
})
console.log('== Online sink')
console.table({
  'writes to the store': sm.writes,
  applied: sm.applied,
  'stale (rejected by compare-and-set)': sm.stale,
  'coalesced (never sent)': sm.coalesced,
  'freshness p50 (simulated)': formatSeconds(sm.freshnessMs.p50),
  'freshness p99 (simulated)': formatSeconds(sm.freshnessMs.p99),
})
const meanSpan = chunkSpans.reduce((a, b) => a + b, 0) / Math.max(1, chunkSpans.length)
console.log(
  `   Freshness is how long after an event its feature value became readable online (availableTime − eventTime); ` +
    `here it is mostly the replay's batching: values are written once per micro-batch of ${CHUNK} events ` +
    `(${formatSeconds(meanSpan)} of simulated time on average), stamped with the user's latest event in it, ` +
    `plus the ${formatSeconds(LAG_MS)} processing lag.`,
)

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
console.log(`\n== Offline log: ${files.length} Parquet files, ${bytes} bytes under ${logDir}`)
for (const f of files.slice(0, 3)) console.log(`   ${relative(dir, f)}`)

// Every group commit wrote one small file per partition; compaction merges each feature=/date=
// partition into a few large sorted files (the pipeline closed the log, so reopen it to write).
const writable = await parquetLog({ dir: logDir, features: features.describe() })
const compaction = await writable.compact()
console.log(
  `== Compaction: ${compaction.filesIn} files → ${compaction.filesOut} in ${compaction.partitions} partitions ` +
    `(${compaction.rows} rows, ${compaction.bytesIn} → ${compaction.bytesOut} bytes, ${Math.round(compaction.durationMs)} ms); ` +
    `now ${(await parquetFiles(logDir)).length} files`,
)

// ── Time travel ───────────────────────────────────────────────────────────────────────────────
const probe = START + 30 * 60_000
const state = await writable.stateAt(probe, { features: featureNames, entities: ['user-00'] })
console.log(`\n== Time travel: user-00 as served at ${iso(probe)}`)
console.table(
  state.map((w) => ({
    feature: w.feature,
    value: w.value,
    eventTime: iso(w.eventTime),
    availableTime: iso(w.availableTime),
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
// The definitions give the join each feature's TTL (as maxAge), as they gave the reader.
const definitions = features.describe()
const training = await asOfJoin(labels, writable, { features: featureNames, definitions, includeAge: true })
const leaky = await asOfJoin(labels, writable, { features: featureNames, definitions, by: 'event' })
let leaks = 0
for (let i = 0; i < training.numRows; i++) if (training.get(i)?.clicks_5m !== leaky.get(i)?.clicks_5m) leaks++
const plain = (v: unknown) =>
  typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? Math.round(v * 100) / 100 : v
const complete: number[] = [] // rows with every feature, spread over the run
for (let i = 0; i < training.numRows; i++) {
  const row = training.get(i)
  if (featureNames.every((f) => row?.[f] !== null)) complete.push(i)
}
const preview = Array.from({ length: Math.min(6, complete.length) }, (_, k) => {
  const row = training.get(complete[Math.floor((k * complete.length) / 6)] as number)?.toJSON() ?? {}
  return Object.fromEntries(
    Object.entries(row).map(([c, v]) => [c, c === 'time' ? iso(Number(v)) : plain(v)]),
  )
})
const trainingFile = join(dir, 'training.parquet')
await writeParquet(training, trainingFile)
console.log(
  `\n== Training set: ${training.numRows} label rows × ${training.numCols} columns → ${trainingFile}\n` +
    `   ${complete.length} rows have every feature; the others are labels before the user's first value ` +
    `was available online, or past a TTL. A few rows with values:`,
)
console.table(preview)
console.log(
  `   ${leaks} of ${training.numRows} rows would have seen a clicks_5m value that was not yet available ` +
    `with a classic event-time as-of join (by: 'event'); the default by: 'available' never does.`,
)

// ── Skew audit: what the reader served vs what the log says was available then ─────────────
// The reader hides values past their TTL; the audit applies the same limit (both from the definitions).
const audit = await skewAudit(served.items, writable, { features: online })
console.log(`\n== Skew audit: ${audit.checked} served values checked, ${audit.mismatches.length} mismatches`)
for (const x of audit.mismatches.slice(0, 5)) console.log('  ', x)
const servedFile = join(dir, 'served.parquet')
await writeServed(served.items, servedFile)

// ── Freshness chart: the age of what the store held, streaming vs an hourly batch job ─────────
const report = await freshnessReport(writable, { batchEvery: '1h' })
const chartFile = join(dir, 'freshness.svg')
await writeFile(chartFile, renderFreshnessChart(report, { title: 'Skewless demo: feature age over time' }))
console.log('\n== Freshness of the values the online store held (age = t − eventTime of the value held at t)')
console.table(
  report.features.map((f) => ({
    feature: f.feature,
    'streaming p50': formatSeconds(f.streaming.overall.p50),
    'streaming p99': formatSeconds(f.streaming.overall.p99),
    'hourly batch p50': formatSeconds(f.batch.overall.p50),
    'hourly batch p99': formatSeconds(f.batch.overall.p99),
  })),
)

await writable.close()
await store.close()
if (cli.out !== undefined) {
  console.log(`\n== Kept in ${dir}:`)
  console.log(`   feature-log/       the offline log: pnpm skewless inspect ${logDir}`)
  console.log(`   training.parquet   the training set (${training.numRows} rows)`)
  console.log(
    `   served.parquet     the ${served.items.length} served values: pnpm skewless audit ${logDir} --served ${servedFile}`,
  )
  console.log(
    `   freshness.svg      the freshness chart (pnpm skewless freshness ${logDir} --out chart.svg redraws it)`,
  )
} else if (process.env.SKEWLESS_KEEP_DEMO) {
  console.log(`\n(kept ${dir}; pnpm demo --out <dir> keeps the output in a directory of your choice)`)
} else {
  await rm(dir, { recursive: true, force: true })
  console.log(
    '\n(pnpm demo --out <dir> keeps the log, the training set, the served values and the freshness chart)',
  )
}
if (audit.mismatches.length > 0) process.exitCode = 1

// ── Helpers ───────────────────────────────────────────────────────────────────────────────────
function formatSeconds(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  return ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`
}

/**
 * Served values as a Parquet file in the columns `skewless audit --served` reads: entity, feature,
 * read_time, answered_time, event_time and the value in a column per type.
 */
async function writeServed(records: readonly ServedRecord[], file: string): Promise<void> {
  const column = <T>(type: DataType, f: (r: ServedRecord) => T) => vectorFromArray(records.map(f), type)
  const table = new Table({
    entity: column(new Utf8(), (r) => r.entity),
    feature: column(new Utf8(), (r) => r.feature),
    read_time: column(new Float64(), (r) => r.readTime),
    answered_time: column(new Float64(), (r) => r.answeredTime ?? r.readTime),
    event_time: column(new Float64(), (r) => r.eventTime),
    value_double: column(new Float64(), (r) => (typeof r.value === 'number' ? r.value : null)),
    value_string: column(new Utf8(), (r) => (typeof r.value === 'string' ? r.value : null)),
  })
  await writeParquet(table, file)
}
