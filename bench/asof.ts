/**
 * `pnpm bench asof`: point-in-time join of 1M labels against 10M feature records (100k entities,
 * unsorted, 30 days), with int and with string entity keys. In the same run:
 * - the library (`asOfJoinTable`) in `event` mode (the mode DuckDB and Polars express natively) and in
 *   the default leak-free `available` mode, from Arrow tables already in memory, and end to end from
 *   the JS arrays (building the Arrow tables included);
 * - DuckDB `ASOF LEFT JOIN`: join only (tables already loaded), and end to end from the JS arrays
 *   (appender data chunks, join, result read back into JS);
 * - nodejs-polars `joinAsof` with `by`, including the sorts it requires.
 * Every engine runs in its own child process, so each one's peak RSS (`resourceUsage().maxRSS`) is
 * its own; all generate the same data from one seed. Results are compared by a checksum over
 * (label row id, value).
 *
 * Each timed join step runs BENCH_REPEAT times inside its engine's child and the best time counts,
 * so a load spike from another process on the shared machine does not decide a ratio.
 *
 * Env: BENCH_RECORDS (10_000_000), BENCH_LABELS (1_000_000), BENCH_ENTITIES (100_000), BENCH_REPEAT (3).
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { xorshift } from './lib/rng.ts'

const RECORDS = Number(process.env.BENCH_RECORDS ?? 10_000_000)
const LABELS = Number(process.env.BENCH_LABELS ?? 1_000_000)
const ENTITIES = Number(process.env.BENCH_ENTITIES ?? 100_000)
/** Each timed join runs this many times in its child; the best time is reported (the machine is shared). */
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3)
const DAY = 86_400_000
const T0 = Date.UTC(2026, 9, 1)
const SPAN = 30 * DAY

type Keys = 'int' | 'string'

interface Data {
  /** Entity id per record (also the string key `user-<id>`). */
  ent: Int32Array
  et: Float64Array
  at: Float64Array
  ver: Int32Array
  val: Float64Array
  labelEnt: Int32Array
  labelT: Float64Array
}

/** Deterministic data: every child process builds the same arrays. */
function generate(): Data {
  const rand = xorshift(0x2545f491)
  const ent = new Int32Array(RECORDS)
  const et = new Float64Array(RECORDS)
  const at = new Float64Array(RECORDS)
  const ver = new Int32Array(RECORDS)
  const val = new Float64Array(RECORDS)
  const step = Math.floor(SPAN / RECORDS)
  for (let i = 0; i < RECORDS; i++) {
    // Distinct event times (one per step), so every engine's tie rule gives the same answer.
    et[i] = T0 + i * step + Math.floor(rand() * step)
    ent[i] = Math.floor(rand() * ENTITIES)
    // Availability lags the event by up to 2 s; 5% are late corrections that show up hours later.
    at[i] =
      (et[i] as number) + (rand() < 0.05 ? Math.floor(rand() * 6 * 3_600_000) : Math.floor(rand() * 2000))
    ver[i] = 0
    val[i] = Math.floor(rand() * 1_000_000)
  }
  // Unsorted: shuffle the records.
  for (let i = RECORDS - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    let t = ent[i] as number
    ent[i] = ent[j] as number
    ent[j] = t
    t = et[i] as number
    et[i] = et[j] as number
    et[j] = t
    t = at[i] as number
    at[i] = at[j] as number
    at[j] = t
    t = val[i] as number
    val[i] = val[j] as number
    val[j] = t
  }
  const labelEnt = new Int32Array(LABELS)
  const labelT = new Float64Array(LABELS)
  for (let i = 0; i < LABELS; i++) {
    // 1% of labels name entities the log never saw; some labels precede every record.
    labelEnt[i] = rand() < 0.01 ? ENTITIES + Math.floor(rand() * 1000) : Math.floor(rand() * ENTITIES)
    labelT[i] = T0 - DAY + Math.floor(rand() * (SPAN + DAY))
  }
  return { ent, et, at, ver, val, labelEnt, labelT }
}

/** Order-independent checksum over (label row, value): exact in doubles for these sizes. */
function checksum_(rid: ArrayLike<number | bigint>, v: ArrayLike<number | null>): number {
  let sum = 0
  for (let i = 0; i < v.length; i++) {
    const x = v[i]
    if (x !== null && x !== undefined) sum += ((x as number) + 1) * ((Number(rid[i]) % 1000) + 1)
  }
  return sum
}

const NAMES_CACHE: string[] = []
/** String key of entity id `i`. */
function keyName(i: number): string {
  let s = NAMES_CACHE[i]
  if (s === undefined) {
    s = `user-${i}`
    NAMES_CACHE[i] = s
  }
  return s
}

type Timings = Record<string, number>
type Sums = Record<string, number>

// ---------------------------------------------------------------- library
async function runLib(
  d: Data,
  _keys: Keys,
  strs: StringKeys | undefined,
): Promise<{ timings: Timings; checksum: Sums }> {
  const { asOfJoinTable } = await import('@skewless/asof-join')
  const A = await import('apache-arrow')
  const enc = new TextEncoder()
  const utf8 = (values: readonly string[]) => {
    const offsets = new Int32Array(values.length + 1)
    let bytes = new Uint8Array(values.length * 12)
    let pos = 0
    for (let i = 0; i < values.length; i++) {
      const s = values[i] as string
      if (pos + s.length * 3 > bytes.length) {
        const b = new Uint8Array(bytes.length * 2 + s.length * 3)
        b.set(bytes)
        bytes = b
      }
      pos += enc.encodeInto(s, bytes.subarray(pos)).written
      offsets[i + 1] = pos
    }
    return A.makeData({
      type: new A.Utf8(),
      length: values.length,
      valueOffsets: offsets,
      data: bytes.subarray(0, pos),
    })
  }
  const ts = (x: Float64Array) => {
    const w = new Int32Array(x.length * 2)
    for (let i = 0; i < x.length; i++) {
      const v = x[i] as number
      const hi = Math.floor(v / 4294967296)
      w[2 * i] = (v - hi * 4294967296) | 0
      w[2 * i + 1] = hi
    }
    return A.makeData({
      type: new A.TimestampMillisecond(),
      length: x.length,
      data: new BigInt64Array(w.buffer),
    })
  }
  const build = () => {
    const n = d.ent.length
    const feature = A.makeData({
      type: new A.Dictionary(new A.Utf8(), new A.Int8()),
      length: n,
      data: new Int8Array(n),
      dictionary: A.vectorFromArray(['f'], new A.Utf8()),
    })
    const log = new A.Table({
      entity: strs
        ? A.makeVector(utf8(strs.ent))
        : A.makeVector(A.makeData({ type: new A.Int32(), length: n, data: d.ent })),
      feature: A.makeVector(feature),
      value_double: A.makeVector(d.val),
      event_time: A.makeVector(ts(d.et)),
      available_time: A.makeVector(ts(d.at)),
      version: A.makeVector(d.ver),
    })
    const rid = new Int32Array(d.labelT.length)
    for (let i = 0; i < rid.length; i++) rid[i] = i
    const labels = new A.Table({
      rid: A.makeVector(rid),
      entity: strs
        ? A.makeVector(utf8(strs.labelEnt))
        : A.makeVector(A.makeData({ type: new A.Int32(), length: rid.length, data: d.labelEnt })),
      time: A.makeVector(ts(d.labelT)),
    })
    return { log, labels }
  }
  const timings: Timings = {}
  const checksum: Sums = {}
  let t0 = performance.now()
  const { log, labels } = build()
  timings.build_arrow = performance.now() - t0
  // Loaded means "in the engine's own format", as for DuckDB's tables: the Arrow tables. Release
  // the 10M-element JS string array, which would otherwise make every major GC during the join
  // (triggered by its typed-array allocations) mark 10M pointers.
  if (strs) {
    strs.ent.length = 0
    strs.labelEnt.length = 0
  }
  for (const by of ['event', 'available'] as const) {
    let out = asOfJoinTable(labels, log, { features: ['f'], by: 'event' })
    timings[by] = Number.POSITIVE_INFINITY
    for (let r = 0; r < REPEAT; r++) {
      t0 = performance.now()
      out = asOfJoinTable(labels, log, { features: ['f'], by })
      timings[by] = Math.min(timings[by] as number, performance.now() - t0)
    }
    const rid = out.getChild('rid') as import('apache-arrow').Vector
    const f = out.getChild('f') as import('apache-arrow').Vector
    const v: (number | null)[] = new Array(out.numRows)
    for (let i = 0; i < v.length; i++) v[i] = f.get(i) as number | null
    checksum[by] = checksum_(rid.toArray() as Int32Array, v)
  }
  timings.event_e2e = (timings.build_arrow as number) + (timings.event as number)
  if (strs) {
    // The offline log's own Arrow layout dictionary-encodes entities: same join, entity column as
    // Dictionary<Utf8> (indices + 100k distinct names) instead of 10M Utf8 cells.
    const names = A.vectorFromArray(
      Array.from({ length: ENTITIES }, (_, i) => keyName(i)),
      new A.Utf8(),
    )
    const dictLog = log.assign(
      new A.Table({
        entity: A.makeVector(
          A.makeData({
            type: new A.Dictionary(new A.Utf8(), new A.Int32()),
            length: d.ent.length,
            data: d.ent,
            dictionary: names,
          }),
        ),
      }),
    )
    let out = asOfJoinTable(labels, dictLog, { features: ['f'], by: 'event' })
    timings.event_dictionary_log = Number.POSITIVE_INFINITY
    for (let r = 0; r < REPEAT; r++) {
      t0 = performance.now()
      out = asOfJoinTable(labels, dictLog, { features: ['f'], by: 'event' })
      timings.event_dictionary_log = Math.min(timings.event_dictionary_log, performance.now() - t0)
    }
    const f = out.getChild('f') as import('apache-arrow').Vector
    const v: (number | null)[] = new Array(out.numRows)
    for (let i = 0; i < v.length; i++) v[i] = f.get(i) as number | null
    checksum.event_dictionary_log = checksum_(
      (out.getChild('rid') as import('apache-arrow').Vector).toArray() as Int32Array,
      v,
    )
  }
  return { timings, checksum }
}

// ---------------------------------------------------------------- DuckDB
async function runDuck(
  d: Data,
  keys: Keys,
  strs: StringKeys | undefined,
): Promise<{ timings: Timings; checksum: Sums }> {
  const duck = await import('@duckdb/node-api')
  const timings: Timings = {}
  const checksum: Sums = {}
  const inst = await duck.DuckDBInstance.create(':memory:')
  const con = await inst.connect()
  const keyType = keys === 'int' ? 'INTEGER' : 'VARCHAR'
  const t0 = performance.now()
  await con.run(`CREATE TABLE recs (entity ${keyType}, et BIGINT, avail BIGINT, v DOUBLE)`)
  await con.run(`CREATE TABLE labels (rid INTEGER, entity ${keyType}, t BIGINT)`)
  const load = async (
    table: string,
    types: import('@duckdb/node-api').DuckDBType[],
    cols: (i: number, n: number) => unknown[][],
    rows: number,
  ) => {
    const app = await con.createAppender(table)
    const chunk = duck.DuckDBDataChunk.create(types, 2048)
    for (let s = 0; s < rows; s += 2048) {
      const n = Math.min(2048, rows - s)
      chunk.rowCount = n
      chunk.setColumns(cols(s, n) as never)
      app.appendDataChunk(chunk)
    }
    app.flushSync()
    app.closeSync()
  }
  const kt = keys === 'int' ? duck.INTEGER : duck.VARCHAR
  const big = (a: Float64Array, s: number, n: number) => {
    const o = new Array<bigint>(n)
    for (let i = 0; i < n; i++) o[i] = BigInt(a[s + i] as number)
    return o
  }
  await load(
    'recs',
    [kt, duck.BIGINT, duck.BIGINT, duck.DOUBLE],
    (s, n) => [
      strs ? strs.ent.slice(s, s + n) : Array.from(d.ent.subarray(s, s + n)),
      big(d.et, s, n),
      big(d.at, s, n),
      Array.from(d.val.subarray(s, s + n)),
    ],
    d.ent.length,
  )
  await load(
    'labels',
    [duck.INTEGER, kt, duck.BIGINT],
    (s, n) => [
      Array.from({ length: n }, (_, i) => s + i),
      strs ? strs.labelEnt.slice(s, s + n) : Array.from(d.labelEnt.subarray(s, s + n)),
      big(d.labelT, s, n),
    ],
    d.labelT.length,
  )
  timings.load = performance.now() - t0
  let t1 = 0
  timings.event_join = Number.POSITIVE_INFINITY
  for (let r = 0; r < REPEAT; r++) {
    t1 = performance.now()
    await con.run(
      'CREATE OR REPLACE TABLE res AS SELECT l.rid, r.v FROM labels l ASOF LEFT JOIN recs r ON l.entity = r.entity AND l.t >= r.et',
    )
    timings.event_join = Math.min(timings.event_join, performance.now() - t1)
  }
  t1 = performance.now()
  const read = await con.runAndReadAll('SELECT rid, v FROM res')
  const [rid, v] = read.getColumns() as [number[], (number | null)[]]
  timings.read_back = performance.now() - t1
  // End to end from the JS arrays: load + the best join + reading the result back into JS.
  timings.event_e2e = (timings.load as number) + timings.event_join + timings.read_back
  checksum.event = checksum_(rid, v)
  // Leak-free mode in SQL: a record is eligible from max(et, at); per entity, the running best by
  // et over that order, then an ASOF join on the eligibility time (the library's algorithm in SQL).
  t1 = performance.now()
  await con.run(`CREATE TABLE res2 AS
    WITH best AS (
      SELECT entity, greatest(et, avail) AS elig, arg_max(v, et) OVER (PARTITION BY entity ORDER BY greatest(et, avail)) AS bv
      FROM recs)
    SELECT l.rid, b.bv AS v FROM labels l ASOF LEFT JOIN best b ON l.entity = b.entity AND l.t >= b.elig`)
  timings.available_join = performance.now() - t1
  const read2 = await con.runAndReadAll('SELECT rid, v FROM res2')
  const [rid2, v2] = read2.getColumns() as [number[], (number | null)[]]
  checksum.available = checksum_(rid2, v2)
  con.closeSync()
  inst.closeSync()
  return { timings, checksum }
}

// ---------------------------------------------------------------- Polars
async function runPolars(
  d: Data,
  _keys: Keys,
  strs: StringKeys | undefined,
): Promise<{ timings: Timings; checksum: Sums }> {
  const pl = (await import('nodejs-polars')).default
  const timings: Timings = {}
  const t0 = performance.now()
  const rid = new Int32Array(d.labelT.length)
  for (let i = 0; i < rid.length; i++) rid[i] = i
  const left = pl.DataFrame({
    rid,
    entity: strs ? strs.labelEnt : d.labelEnt,
    t: pl.Series('t', d.labelT).cast(pl.Int64),
  })
  const right = pl.DataFrame({
    entity: strs ? strs.ent : d.ent,
    et: pl.Series('et', d.et).cast(pl.Int64),
    v: d.val,
  })
  timings.build = performance.now() - t0
  let out = left
  timings.event = Number.POSITIVE_INFINITY
  for (let r = 0; r < REPEAT; r++) {
    const t1 = performance.now()
    out = left
      .sort('t')
      .joinAsof(right.sort('et'), { leftOn: 't', rightOn: 'et', by: 'entity', strategy: 'backward' })
    timings.event = Math.min(timings.event, performance.now() - t1)
  }
  timings.event_e2e = (timings.build as number) + timings.event
  const sum = checksum_(
    out.getColumn('rid').toArray() as unknown as number[],
    out.getColumn('v').toArray() as unknown as (number | null)[],
  )
  return { timings, checksum: { event: sum } }
}

interface StringKeys {
  ent: string[]
  labelEnt: string[]
}

interface ChildResult {
  engine: string
  keys: Keys
  timings: Record<string, number>
  checksum: Record<string, number>
  rssAfterDataMb: number
  peakRssMb: number
}

async function runChild(engine: string, keys: Keys): Promise<void> {
  const data = generate()
  const strs: StringKeys | undefined =
    keys === 'string'
      ? { ent: Array.from(data.ent, keyName), labelEnt: Array.from(data.labelEnt, keyName) }
      : undefined
  const rssAfterDataMb = process.memoryUsage().rss / 2 ** 20
  const run = engine === 'lib' ? runLib : engine === 'duckdb' ? runDuck : runPolars
  const { timings, checksum: sums } = await run(data, keys, strs)
  const result: ChildResult = {
    engine,
    keys,
    timings,
    checksum: sums,
    rssAfterDataMb,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  }
  console.log(JSON.stringify(result))
}

function spawnChild(engine: string, keys: Keys): ChildResult {
  const res = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    env: { ...process.env, ASOF_ENGINE: engine, ASOF_KEYS: keys },
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  })
  const lines = (res.stdout ?? '').trim().split('\n')
  const last = lines.filter((l) => l.startsWith('{"engine"')).pop() ?? ''
  if (res.status !== 0 || !last.startsWith('{')) {
    throw new Error(`child ${engine}/${keys} failed (status ${res.status}):\n${res.stderr}\n${res.stdout}`)
  }
  return JSON.parse(last) as ChildResult
}

const fmt = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(0).padStart(8))

async function main(): Promise<void> {
  console.log(`asof bench: ${RECORDS} records, ${ENTITIES} entities, ${LABELS} labels, 30 days, unsorted`)
  const results: ChildResult[] = []
  for (const keys of ['int', 'string'] as const) {
    for (const engine of ['lib', 'duckdb', 'polars']) {
      const r = spawnChild(engine, keys)
      results.push(r)
      console.error(`done ${engine}/${keys}: ${JSON.stringify(r)}`)
    }
  }
  const get = (engine: string, keys: Keys) =>
    results.find((r) => r.engine === engine && r.keys === keys) as ChildResult
  let match = true
  console.log('')
  console.log(
    'keys    engine  step                          ms     checksum           rss_after_data_mb  peak_rss_mb',
  )
  for (const r of results) {
    for (const [step, ms] of Object.entries(r.timings)) {
      const sum = r.checksum[step] ?? r.checksum[step.replace(/_(e2e|join)$/, '')] ?? r.checksum.event
      console.log(
        `${r.keys.padEnd(7)} ${r.engine.padEnd(7)} ${step.padEnd(24)} ${fmt(ms)}   ${String(sum).padEnd(18)} ${fmt(r.rssAfterDataMb)}           ${fmt(r.peakRssMb)}`,
      )
    }
  }
  console.log('')
  for (const keys of ['int', 'string'] as const) {
    const lib = get('lib', keys)
    const duck = get('duckdb', keys)
    const pol = get('polars', keys)
    const m =
      lib.checksum.event === duck.checksum.event &&
      lib.checksum.event === pol.checksum.event &&
      (lib.checksum.event_dictionary_log ?? lib.checksum.event) === lib.checksum.event
    const ma = lib.checksum.available === duck.checksum.available
    match = match && m && ma
    console.log(
      `${keys} keys: event checksums lib=${lib.checksum.event} duckdb=${duck.checksum.event} polars=${pol.checksum.event} -> ${m}; available lib=${lib.checksum.available} duckdb(filter)=${duck.checksum.available} -> ${ma}`,
    )
    console.log(
      `${keys} keys: lib event ${lib.timings.event?.toFixed(0)} ms (available ${lib.timings.available?.toFixed(0)} ms) vs duckdb join ${duck.timings.event_join?.toFixed(0)} ms / e2e ${duck.timings.event_e2e?.toFixed(0)} ms, polars ${pol.timings.event?.toFixed(0)} ms; ratio_vs_duckdb_join ${((lib.timings.event as number) / (duck.timings.event_join as number)).toFixed(2)}, ratio_vs_polars ${((lib.timings.event as number) / (pol.timings.event as number)).toFixed(2)}; peak RSS lib ${lib.peakRssMb.toFixed(0)} MB, duckdb ${duck.peakRssMb.toFixed(0)} MB, polars ${pol.peakRssMb.toFixed(0)} MB`,
    )
  }
  const lib = get('lib', 'int')
  const duck = get('duckdb', 'int')
  const pol = get('polars', 'int')
  const round = (x: number) => Math.round(x * 100) / 100
  console.log(
    JSON.stringify({
      bench: 'asof',
      ms: Math.round(lib.timings.event as number),
      duckdb_join_ms: Math.round(duck.timings.event_join as number),
      duckdb_e2e_ms: Math.round(duck.timings.event_e2e as number),
      polars_ms: Math.round(pol.timings.event as number),
      ratio_vs_duckdb_join: round((lib.timings.event as number) / (duck.timings.event_join as number)),
      ratio_vs_polars: round((lib.timings.event as number) / (pol.timings.event as number)),
      peak_rss_mb: Math.round(lib.peakRssMb),
      checksum_match: match,
    }),
  )
}

if (process.env.ASOF_ENGINE) await runChild(process.env.ASOF_ENGINE, (process.env.ASOF_KEYS ?? 'int') as Keys)
else await main()
