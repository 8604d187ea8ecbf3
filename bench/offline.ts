/**
 * `pnpm bench offline`: 2M FeatureWrites (100k entities x 20 features) appended to a Parquet offline
 * log through the library, read back into Arrow through `scan`, and — in the same run, on the same
 * rows — DuckDB loading them from JS (data chunks into an in-memory table) plus `COPY … TO parquet`
 * as the reference writer.
 *
 * Env: BENCH_ROWS (default 2_000_000), BENCH_ENTITIES (default 100_000), BENCH_APPEND_BATCH (default 50_000),
 * BENCH_ENCODER ('parquet-wasm' | 'parquetjs-lite'), BENCH_COMPRESSION (default snappy), BENCH_KEEP=1 keeps the dirs.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import os, { tmpdir } from 'node:os'
import { join } from 'node:path'
import v8 from 'node:v8'
import vm from 'node:vm'
import { BIGINT, BOOLEAN, DOUBLE, DuckDBDataChunk, DuckDBInstance, VARCHAR } from '@duckdb/node-api'
import type { FeatureWrite, ValueType } from '@skewless/core'
import { parquetLog } from '@skewless/offline-parquet'
import { xorshift } from './lib/rng.ts'

const ROWS = Number(process.env.BENCH_ROWS ?? 2_000_000)
const ENTITIES = Number(process.env.BENCH_ENTITIES ?? 100_000)
const FEATURES = 20
const APPEND_BATCH = Number(process.env.BENCH_APPEND_BATCH ?? 50_000)
const ENCODER = (process.env.BENCH_ENCODER ?? 'parquet-wasm') as 'parquet-wasm' | 'parquetjs-lite'
const COMPRESSION = (process.env.BENCH_COMPRESSION ?? 'snappy') as 'snappy'
const T0 = Date.UTC(2026, 10, 1, 8)

const TYPES: ValueType[] = [
  'double',
  'double',
  'double',
  'double',
  'double',
  'double',
  'double',
  'double',
  'int64',
  'int64',
  'int64',
  'int64',
  'int64',
  'int64',
  'string',
  'string',
  'string',
  'bool',
  'bool',
  'double',
]
const featureNames = Array.from({ length: FEATURES }, (_, i) => `f${String(i).padStart(2, '0')}_${TYPES[i]}`)
const featureTypes = Object.fromEntries(featureNames.map((n, i) => [n, TYPES[i] as ValueType]))
const COUNTRIES = ['DE', 'FR', 'US', 'JP', 'BR', 'IN', 'ZA', 'ÅLAND']

const rand = xorshift(0x2545f491)

function randomValue(type: ValueType): FeatureWrite['value'] {
  if (type === 'double') return rand() * 1000
  if (type === 'int64') return Math.floor(rand() * 1e6)
  if (type === 'string') return COUNTRIES[Math.floor(rand() * COUNTRIES.length)] as string
  return rand() < 0.5
}

function generate(): FeatureWrite[] {
  const entities = Array.from({ length: ENTITIES }, (_, i) => `user-${i}`)
  const out: FeatureWrite[] = new Array(ROWS)
  for (let i = 0; i < ROWS; i++) {
    const f = i % FEATURES
    const type = TYPES[f]
    const eventTime = T0 + Math.floor(i / 2) // ~1M ms of event time: 17 minutes, one UTC day
    let value: FeatureWrite['value']
    if (type === 'double') value = rand() * 1000
    else if (type === 'int64') value = Math.floor(rand() * 1e6)
    else if (type === 'string') value = COUNTRIES[Math.floor(rand() * COUNTRIES.length)] as string
    else value = rand() < 0.5
    if (rand() < 0.02) value = null
    out[i] = {
      entity: entities[Math.floor(rand() * ENTITIES)] as string,
      feature: featureNames[f] as string,
      value,
      eventTime,
      version: i,
      availableTime: eventTime + 2 + Math.floor(rand() * 20),
      outcome: rand() < 0.01 ? 'stale' : 'applied',
    }
  }
  return out
}

async function dirBytes(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0
  let files = 0
  for (const e of await readdir(dir, { recursive: true })) {
    if (!String(e).endsWith('.parquet')) continue
    bytes += (await stat(join(dir, String(e)))).size
    files++
  }
  return { bytes, files }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

const records = generate()
const root = await mkdtemp(join(tmpdir(), 'skewless-bench-offline-'))

// 1. library: append (group commit), durable when the promises resolve
const logDir = join(root, 'log')
const log = await parquetLog({
  features: featureTypes,
  dir: logDir,
  encoder: ENCODER,
  compression: COMPRESSION,
})
const cpu = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
let c = cpu()
let t = performance.now()
const acks: Promise<void>[] = []
for (let i = 0; i < ROWS; i += APPEND_BATCH) acks.push(log.append(records.slice(i, i + APPEND_BATCH)))
await Promise.all(acks)
await log.flush()
const appendMs = performance.now() - t
const appendCpu = cpu() - c
const { bytes, files } = await dirBytes(logDir)

// 2. reference: DuckDB loads the same rows from JS (data chunks → appender), then COPY … TO parquet
const db = await DuckDBInstance.create(':memory:', { threads: '2' })
const con = await db.connect()
await con.run(
  'CREATE TABLE log (entity VARCHAR, feature VARCHAR, value_double DOUBLE, value_int64 BIGINT, value_string VARCHAR, value_bool BOOLEAN, event_time_ms DOUBLE, available_time_ms DOUBLE, version DOUBLE, outcome VARCHAR)',
)
c = cpu()
t = performance.now()
const appender = await con.createAppender('log')
const types = [VARCHAR, VARCHAR, DOUBLE, BIGINT, VARCHAR, BOOLEAN, DOUBLE, DOUBLE, DOUBLE, VARCHAR]
const CH = 2048
const cols: (string | number | bigint | boolean | null)[][] = types.map(() => new Array(CH))
for (let s = 0; s < ROWS; s += CH) {
  const n = Math.min(CH, ROWS - s)
  if (n < CH) for (let c = 0; c < cols.length; c++) cols[c] = (cols[c] as unknown[]).slice(0, n) as never
  for (let k = 0; k < n; k++) {
    const r = records[s + k] as FeatureWrite
    const ty = featureTypes[r.feature]
    ;(cols[0] as unknown[])[k] = r.entity
    ;(cols[1] as unknown[])[k] = r.feature
    ;(cols[2] as unknown[])[k] = ty === 'double' ? r.value : null
    ;(cols[3] as unknown[])[k] = ty === 'int64' && r.value !== null ? BigInt(r.value as number) : null
    ;(cols[4] as unknown[])[k] = ty === 'string' ? r.value : null
    ;(cols[5] as unknown[])[k] = ty === 'bool' ? r.value : null
    ;(cols[6] as unknown[])[k] = r.eventTime
    ;(cols[7] as unknown[])[k] = r.availableTime
    ;(cols[8] as unknown[])[k] = r.version
    ;(cols[9] as unknown[])[k] = r.outcome
  }
  const chunk = DuckDBDataChunk.create(types, n)
  chunk.setColumns(cols as never)
  appender.appendDataChunk(chunk)
}
appender.flushSync()
appender.closeSync()
const loadMs = performance.now() - t
const loadCpu = cpu() - c
c = cpu()
const duckFile = join(root, 'duckdb.parquet')
t = performance.now()
await con.run(
  `COPY (SELECT entity, feature, value_double, value_int64, value_string, value_bool, epoch_ms(event_time_ms::BIGINT) AS event_time, epoch_ms(available_time_ms::BIGINT) AS available_time, version::BIGINT AS version, outcome FROM log ORDER BY feature, entity, event_time, version) TO '${duckFile}' (FORMAT parquet, COMPRESSION snappy)`,
)
const copyMs = performance.now() - t
const copyCpu = cpu() - c
const duckBytes = (await stat(duckFile)).size
t = performance.now()
const check = await con.runAndReadAll(
  `SELECT count(*)::INTEGER AS n, typeof(any_value(event_time)) AS et FROM read_parquet('${logDir}/**/*.parquet', hive_partitioning=true)`,
)
const [duckN, duckEt] = check.getRows()[0] as [number, string]
const duckScanMs = performance.now() - t
con.closeSync()
if (duckN !== ROWS) throw new Error(`DuckDB read ${duckN} rows from the log, expected ${ROWS}`)
// 3. library: read back into Arrow through scan (stale rows included: the full log). The 2M
// source objects are released first: a reader process does not hold them, and a heap full of them
// makes every GC triggered by the new Arrow buffers mark them all (measured ~200 ms per major GC).
records.length = 0
v8.setFlagsFromString('--expose-gc')
;(vm.runInNewContext('gc') as () => void)()
c = cpu()
t = performance.now()
let readRows = 0
let batches = 0
for await (const b of log.scan({ features: featureNames, includeStale: true })) {
  readRows += b.numRows
  batches++
}
const readMs = performance.now() - t
const readCpu = cpu() - c
// a second scan of the same files: decoders warm (reported in the table only; the JSON uses the first)
t = performance.now()
for await (const b of log.scan({ features: featureNames, includeStale: true })) void b
const warmMs = performance.now() - t
if (readRows !== ROWS) throw new Error(`read back ${readRows} rows, expected ${ROWS}`)

// 4. stateAt at a recent instant: from a state checkpoint (the checkpoint + the files committed
// since) against reading every file up to t, on the same files. The checkpoint covers the 2M rows;
// then TAIL_COMMITS small commits an hour later, and the state is asked for after them.
c = cpu()
t = performance.now()
const built = await log.checkpointState()
const checkpointMs = performance.now() - t
const checkpointCpu = cpu() - c
const checkpointFilesRead = built.features.reduce((n, f) => n + f.filesRead, 0)
const TAIL_COMMITS = 1
const TAIL_ROWS = 2_000
const tailT0 = T0 + 3_600_000
for (let k = 0; k < TAIL_COMMITS; k++) {
  const tail: FeatureWrite[] = []
  for (let i = 0; i < TAIL_ROWS; i++) {
    const f = i % FEATURES
    const eventTime = tailT0 + k * TAIL_ROWS + i
    tail.push({
      entity: `user-${Math.floor(rand() * ENTITIES)}`,
      feature: featureNames[f] as string,
      value: randomValue(TYPES[f] as ValueType),
      eventTime,
      version: ROWS + k * TAIL_ROWS + i,
      availableTime: eventTime + 5,
      outcome: 'applied',
    })
  }
  await log.append(tail)
}
const stateT = tailT0 + TAIL_COMMITS * TAIL_ROWS + 1_000
const unpruned = await parquetLog({
  features: featureTypes,
  dir: logDir,
  readOnly: true,
  useStateCheckpoints: false,
})
let f0 = log.metrics().filesRead
c = cpu()
t = performance.now()
const prunedState = await log.stateAt(stateT, { features: featureNames })
const prunedMs = performance.now() - t
const prunedCpu = cpu() - c
const prunedFiles = log.metrics().filesRead - f0
f0 = unpruned.metrics().filesRead
c = cpu()
t = performance.now()
const fullState = await unpruned.stateAt(stateT, { features: featureNames })
const unprunedMs = performance.now() - t
const unprunedCpu = cpu() - c
const unprunedFiles = unpruned.metrics().filesRead - f0
await unpruned.close()
await log.close()
let sameState = prunedState.length === fullState.length
for (let i = 0; sameState && i < fullState.length; i++) {
  const a = prunedState[i] as FeatureWrite
  const b = fullState[i] as FeatureWrite
  sameState =
    a.entity === b.entity &&
    a.feature === b.feature &&
    Object.is(a.value, b.value) &&
    a.eventTime === b.eventTime &&
    a.version === b.version &&
    a.availableTime === b.availableTime
}
if (!sameState) throw new Error('stateAt from the checkpoint differs from reading every file')

if (process.env.BENCH_KEEP !== '1') await rm(root, { recursive: true, force: true })

const appendRate = ROWS / (appendMs / 1000)
const readRate = ROWS / (readMs / 1000)
const duckRate = ROWS / ((loadMs + copyMs) / 1000)
console.log(
  `load average ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')} on ${os.cpus().length} cores; cpu ms = process CPU incl. worker and DuckDB threads`,
)
console.log(
  `offline log: ${fmt(ROWS)} FeatureWrites, ${fmt(ENTITIES)} entities, ${FEATURES} features, encoder ${ENCODER}/${COMPRESSION}`,
)
console.table([
  {
    step: 'library append → Parquet (durable)',
    ms: fmt(appendMs),
    'cpu ms': fmt(appendCpu),
    'rows/s': fmt(appendRate),
    notes: `${files} files, ${fmt(bytes)} B, ${(bytes / ROWS).toFixed(1)} B/row`,
  },
  {
    step: 'library scan → Arrow',
    ms: fmt(readMs),
    'cpu ms': fmt(readCpu),
    'rows/s': fmt(readRate),
    notes: `${batches} batches (first scan; JSON)`,
  },
  {
    step: 'library scan → Arrow, again (warm)',
    ms: fmt(warmMs),
    'cpu ms': '',
    'rows/s': fmt(ROWS / (warmMs / 1000)),
    notes: 'decoders warm',
  },
  {
    step: 'library checkpointState (all features)',
    ms: fmt(checkpointMs),
    'cpu ms': fmt(checkpointCpu),
    'rows/s': '',
    notes: `${checkpointFilesRead} files read, ${fmt(built.features.reduce((n, f) => n + f.rows, 0))} records`,
  },
  {
    step: `stateAt(recent t), from the checkpoint`,
    ms: fmt(prunedMs),
    'cpu ms': fmt(prunedCpu),
    'rows/s': '',
    notes: `${prunedFiles} files read (+ checkpoint), ${fmt(prunedState.length)} records`,
  },
  {
    step: 'stateAt(recent t), every file',
    ms: fmt(unprunedMs),
    'cpu ms': fmt(unprunedCpu),
    'rows/s': '',
    notes: `${unprunedFiles} files read, same answer: ${sameState}`,
  },
  {
    step: 'DuckDB load from JS (data chunks)',
    ms: fmt(loadMs),
    'cpu ms': fmt(loadCpu),
    'rows/s': fmt(ROWS / (loadMs / 1000)),
    notes: '',
  },
  {
    step: 'DuckDB COPY … TO parquet',
    ms: fmt(copyMs),
    'cpu ms': fmt(copyCpu),
    'rows/s': fmt(ROWS / (copyMs / 1000)),
    notes: `${fmt(duckBytes)} B, ${(duckBytes / ROWS).toFixed(1)} B/row`,
  },
  {
    step: 'DuckDB load + COPY (reference)',
    ms: fmt(loadMs + copyMs),
    'cpu ms': fmt(loadCpu + copyCpu),
    'rows/s': fmt(duckRate),
    notes: '',
  },
  {
    step: 'DuckDB reads the log dir',
    ms: fmt(duckScanMs),
    'cpu ms': '',
    'rows/s': fmt(ROWS / (duckScanMs / 1000)),
    notes: `count=${duckN}, event_time is ${duckEt}`,
  },
])
console.log(
  JSON.stringify({
    bench: 'offline',
    append_rows_per_s: Math.round(appendRate),
    read_rows_per_s: Math.round(readRate),
    duckdb_rows_per_s: Math.round(duckRate),
    ratio_vs_duckdb: Number((appendRate / duckRate).toFixed(3)),
    bytes_per_row: Number((bytes / ROWS).toFixed(2)),
    state_at_ms: Math.round(prunedMs),
    state_at_files_read: prunedFiles,
    state_at_cpu_ms: Math.round(prunedCpu),
    state_at_unpruned_ms: Math.round(unprunedMs),
    state_at_unpruned_cpu_ms: Math.round(unprunedCpu),
    state_at_unpruned_files_read: unprunedFiles,
    state_at_same: sameState,
    state_checkpoint_ms: Math.round(checkpointMs),
  }),
)
