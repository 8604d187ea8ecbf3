/**
 * `pnpm bench asof-wide`: a training set of 20 features of mixed types from one long-format log.
 * 10M records (10 double, 4 int64, 4 string, 2 boolean features; 100k entities; 30 days; unsorted),
 * 1M labels, joined `by: 'event'` (the rule DuckDB and Polars express natively) and
 * `by: 'available'`. In the same run, each engine in its own child process:
 * - the library (`asOfJoinTable`) from Arrow tables in memory, on the log as one batch and on the same
 *   log cut into ~10k batches (`small_batches_ratio`);
 * - DuckDB: twenty `ASOF LEFT JOIN`s against the long table filtered by feature, and a pivot first
 *   (per feature, the last value carried forward over the entity's records, then one ASOF join):
 *   both are timed, the faster counts;
 * - nodejs-polars: `joinAsof` per feature (filter, sort, join), chained over the labels.
 * Results are compared by a checksum per feature over (label row, value).
 *
 * Env: ASOF_WIDE_RECORDS (10_000_000), ASOF_WIDE_LABELS (1_000_000), ASOF_WIDE_ENTITIES (100_000),
 * ASOF_WIDE_REPEAT (2: best of), ASOF_WIDE_BATCHES (10_000: the small-batch cut),
 * ASOF_WIDE_ENGINES (lib,duckdb,polars), ASOF_WIDE_DUCKDB_PLANS (per_feature,pivot).
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { xorshift } from './lib/rng.ts'

const RECORDS = Number(process.env.ASOF_WIDE_RECORDS ?? 10_000_000)
const LABELS = Number(process.env.ASOF_WIDE_LABELS ?? Math.max(1, Math.round(RECORDS / 10)))
const ENTITIES = Number(process.env.ASOF_WIDE_ENTITIES ?? Math.max(1, Math.round(RECORDS / 100)))
const REPEAT = Number(process.env.ASOF_WIDE_REPEAT ?? 2)
const BATCHES = Number(process.env.ASOF_WIDE_BATCHES ?? 10_000)
const ENGINES = (process.env.ASOF_WIDE_ENGINES ?? 'lib,duckdb,polars').split(',')
const DUCKDB_PLANS = (process.env.ASOF_WIDE_DUCKDB_PLANS ?? 'per_feature,pivot').split(',')
const DAY = 86_400_000
const T0 = Date.UTC(2026, 9, 1)
const SPAN = 30 * DAY
/** Distinct values of a string feature (categorical, as string features usually are). */
const CATEGORIES = 1000

type Kind = 'double' | 'int64' | 'string' | 'bool'
const KINDS: Kind[] = [
  ...Array<Kind>(10).fill('double'),
  ...Array<Kind>(4).fill('int64'),
  ...Array<Kind>(4).fill('string'),
  ...Array<Kind>(2).fill('bool'),
]
const F = KINDS.length
const NAMES = KINDS.map((k, i) => `${k}_${i}`)
const CAT = Array.from({ length: CATEGORIES }, (_, i) => `cat-${i}`)

interface Data {
  ent: Int32Array
  fid: Uint8Array
  et: Float64Array
  at: Float64Array
  /** The record's value as a number: double/int64 as is, string = category index, bool = 0/1. */
  val: Float64Array
  labelEnt: Int32Array
  labelT: Float64Array
}

/** Deterministic data: every child process builds the same arrays. */
function generate(): Data {
  const rand = xorshift(0x5eed_1234)
  const ent = new Int32Array(RECORDS)
  const fid = new Uint8Array(RECORDS)
  const et = new Float64Array(RECORDS)
  const at = new Float64Array(RECORDS)
  const val = new Float64Array(RECORDS)
  const step = Math.floor(SPAN / RECORDS)
  for (let i = 0; i < RECORDS; i++) {
    // Distinct event times (one per step), so every engine's tie rule gives the same answer.
    et[i] = T0 + i * step + Math.floor(rand() * step)
    ent[i] = Math.floor(rand() * ENTITIES)
    const f = Math.floor(rand() * F)
    fid[i] = f
    at[i] =
      (et[i] as number) + (rand() < 0.05 ? Math.floor(rand() * 6 * 3_600_000) : Math.floor(rand() * 2000))
    const k = KINDS[f]
    val[i] =
      k === 'double'
        ? Math.floor(rand() * 1_000_000) / 4
        : k === 'int64'
          ? Math.floor(rand() * 2_000_000_000) - 1_000_000_000
          : k === 'string'
            ? Math.floor(rand() * CATEGORIES)
            : rand() < 0.5
              ? 1
              : 0
  }
  // Unsorted: shuffle the records.
  for (let i = RECORDS - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    const swap = (a: Float64Array | Int32Array | Uint8Array) => {
      const t = a[i] as number
      a[i] = a[j] as number
      a[j] = t
    }
    swap(ent)
    swap(fid)
    swap(et)
    swap(at)
    swap(val)
  }
  const labelEnt = new Int32Array(LABELS)
  const labelT = new Float64Array(LABELS)
  for (let i = 0; i < LABELS; i++) {
    labelEnt[i] = rand() < 0.01 ? ENTITIES + Math.floor(rand() * 1000) : Math.floor(rand() * ENTITIES)
    labelT[i] = T0 - DAY + Math.floor(rand() * (SPAN + DAY))
  }
  return { ent, fid, et, at, val, labelEnt, labelT }
}

/**
 * Per-feature checksums, order-independent and exact in doubles: a value is mapped to an integer
 * (double ×4, int64 mod 1 000 003, category index, bool), weighted by its label row.
 */
class Checksum {
  readonly sums = new Float64Array(F)
  add(f: number, rid: number, x: unknown): void {
    if (x === null || x === undefined) return
    let v: number
    const k = KINDS[f]
    if (k === 'double') v = Math.round((x as number) * 4) % 1_000_003
    else if (k === 'int64') v = Number(BigInt(x as bigint | number) % 1_000_003n)
    else if (k === 'string') v = Number((x as string).slice(4))
    else v = x === true || x === 1 ? 1 : 0
    this.sums[f] = (this.sums[f] as number) + (v + 1_000_004) * ((rid % 1009) + 1)
  }
  get list(): number[] {
    return Array.from(this.sums)
  }
}

type Mode = 'event' | 'available'
interface ChildResult {
  engine: string
  timings: Record<string, number>
  checksum: Record<string, number[]>
  peakRssMb: number
}

const best = async (fn: () => unknown | Promise<unknown>): Promise<number> => {
  let ms = Number.POSITIVE_INFINITY
  for (let r = 0; r < REPEAT; r++) {
    const t0 = performance.now()
    await fn()
    ms = Math.min(ms, performance.now() - t0)
  }
  return ms
}

// ---------------------------------------------------------------- library
async function runLib(d: Data): Promise<ChildResult> {
  const { asOfJoinTable } = await import('@skewless/asof-join')
  const A = await import('apache-arrow')
  const n = d.ent.length
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
  // One validity bitmap per value column: set where the record's feature has that column's type.
  const bitmapOf = (kind: Kind) => {
    const bm = new Uint8Array((n + 7) >> 3)
    let nulls = 0
    for (let i = 0; i < n; i++) {
      if (KINDS[d.fid[i] as number] === kind) bm[i >> 3] = (bm[i >> 3] as number) | (1 << (i & 7))
      else nulls++
    }
    return { nullBitmap: bm, nullCount: nulls }
  }
  const dbl = new Float64Array(n)
  const i64 = new BigInt64Array(n)
  const str = new Int32Array(n)
  const bools = new Uint8Array((n + 7) >> 3)
  for (let i = 0; i < n; i++) {
    const k = KINDS[d.fid[i] as number]
    const v = d.val[i] as number
    if (k === 'double') dbl[i] = v
    else if (k === 'int64') i64[i] = BigInt(v)
    else if (k === 'string') str[i] = v
    else if (v === 1) bools[i >> 3] = (bools[i >> 3] as number) | (1 << (i & 7))
  }
  const log = new A.Table({
    entity: A.makeVector(A.makeData({ type: new A.Int32(), length: n, data: d.ent })),
    feature: A.makeVector(
      A.makeData({
        type: new A.Dictionary(new A.Utf8(), new A.Int8()),
        length: n,
        data: new Int8Array(d.fid.buffer),
        dictionary: A.vectorFromArray(NAMES, new A.Utf8()),
      }),
    ),
    value_double: A.makeVector(
      A.makeData({ type: new A.Float64(), length: n, data: dbl, ...bitmapOf('double') }),
    ),
    value_int64: A.makeVector(
      A.makeData({ type: new A.Int64(), length: n, data: i64, ...bitmapOf('int64') }),
    ),
    value_string: A.makeVector(
      A.makeData({
        type: new A.Dictionary(new A.Utf8(), new A.Int32()),
        length: n,
        data: str,
        dictionary: A.vectorFromArray(CAT, new A.Utf8()),
        ...bitmapOf('string'),
      }),
    ),
    value_bool: A.makeVector(A.makeData({ type: new A.Bool(), length: n, data: bools, ...bitmapOf('bool') })),
    event_time: A.makeVector(ts(d.et)),
    available_time: A.makeVector(ts(d.at)),
    version: A.makeVector(new Int32Array(n)),
  })
  const rid = new Int32Array(d.labelT.length)
  for (let i = 0; i < rid.length; i++) rid[i] = i
  const labels = new A.Table({
    rid: A.makeVector(rid),
    entity: A.makeVector(A.makeData({ type: new A.Int32(), length: rid.length, data: d.labelEnt })),
    time: A.makeVector(ts(d.labelT)),
  })
  // The same log in ~BATCHES record batches (slices of the one batch: no copy).
  const whole = log.batches[0] as import('apache-arrow').RecordBatch
  const per = Math.max(1, Math.ceil(n / BATCHES))
  const small: import('apache-arrow').RecordBatch[] = []
  for (let s = 0; s < n; s += per) small.push(whole.slice(s, Math.min(n, s + per)))
  const smallLog = new A.Table(small)
  const timings: Record<string, number> = {}
  const checksum: Record<string, number[]> = {}
  const sum = (out: import('apache-arrow').Table) => {
    const c = new Checksum()
    const r = (out.getChild('rid') as import('apache-arrow').Vector).toArray() as Int32Array
    for (let f = 0; f < F; f++) {
      const v = out.getChild(NAMES[f] as string) as import('apache-arrow').Vector
      for (let i = 0; i < out.numRows; i++) c.add(f, r[i] as number, v.get(i))
    }
    return c.list
  }
  for (const by of ['event', 'available'] as Mode[]) {
    let out = asOfJoinTable(labels, log, { features: NAMES, by })
    timings[by] = await best(() => {
      out = asOfJoinTable(labels, log, { features: NAMES, by })
    })
    checksum[by] = sum(out)
    timings[`${by}_small_batches`] = await best(() => {
      out = asOfJoinTable(labels, smallLog, { features: NAMES, by })
    })
    checksum[`${by}_small_batches`] = sum(out)
  }
  timings.batches = small.length
  return { engine: 'lib', timings, checksum, peakRssMb: 0 }
}

// ---------------------------------------------------------------- DuckDB
async function runDuck(d: Data): Promise<ChildResult> {
  const duck = await import('@duckdb/node-api')
  const inst = await duck.DuckDBInstance.create(':memory:')
  const con = await inst.connect()
  await con.run(
    'CREATE TABLE recs (entity INTEGER, feature UTINYINT, et BIGINT, avail BIGINT, vd DOUBLE, vi BIGINT, vs VARCHAR, vb BOOLEAN)',
  )
  await con.run('CREATE TABLE labels (rid INTEGER, entity INTEGER, t BIGINT)')
  const load = async (
    table: string,
    types: import('@duckdb/node-api').DuckDBType[],
    cols: (s: number, n: number) => unknown[][],
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
  const big = (a: Float64Array, s: number, n: number) => {
    const o = new Array<bigint>(n)
    for (let i = 0; i < n; i++) o[i] = BigInt(a[s + i] as number)
    return o
  }
  const of = (kind: Kind, s: number, n: number, map: (v: number) => unknown) => {
    const o = new Array<unknown>(n)
    for (let i = 0; i < n; i++)
      o[i] = KINDS[d.fid[s + i] as number] === kind ? map(d.val[s + i] as number) : null
    return o
  }
  await load(
    'recs',
    [
      duck.INTEGER,
      duck.UTINYINT,
      duck.BIGINT,
      duck.BIGINT,
      duck.DOUBLE,
      duck.BIGINT,
      duck.VARCHAR,
      duck.BOOLEAN,
    ],
    (s, n) => [
      Array.from(d.ent.subarray(s, s + n)),
      Array.from(d.fid.subarray(s, s + n)),
      big(d.et, s, n),
      big(d.at, s, n),
      of('double', s, n, (v) => v),
      of('int64', s, n, (v) => BigInt(v)),
      of('string', s, n, (v) => CAT[v]),
      of('bool', s, n, (v) => v === 1),
    ],
    d.ent.length,
  )
  await load(
    'labels',
    [duck.INTEGER, duck.INTEGER, duck.BIGINT],
    (s, n) => [
      Array.from({ length: n }, (_, i) => s + i),
      Array.from(d.labelEnt.subarray(s, s + n)),
      big(d.labelT, s, n),
    ],
    d.labelT.length,
  )
  const col = (f: number) =>
    KINDS[f] === 'double' ? 'vd' : KINDS[f] === 'int64' ? 'vi' : KINDS[f] === 'string' ? 'vs' : 'vb'
  // Plan 1: one ASOF LEFT JOIN per feature against the long table filtered by feature.
  const perFeature = (by: Mode) => {
    const ctes = NAMES.map((_, f) =>
      by === 'event'
        ? `r${f} AS (SELECT entity, et AS k, ${col(f)} AS v FROM recs WHERE feature = ${f})`
        : // Leak-free in SQL: eligible from greatest(et, avail); the running best by et over that order.
          `r${f} AS (SELECT entity, greatest(et, avail) AS k, arg_max(${col(f)}, et) OVER (PARTITION BY entity ORDER BY greatest(et, avail) ROWS UNBOUNDED PRECEDING) AS v FROM recs WHERE feature = ${f})`,
    )
    const joins = NAMES.map((_, f) => `ASOF LEFT JOIN r${f} ON l.entity = r${f}.entity AND l.t >= r${f}.k`)
    return `CREATE OR REPLACE TABLE res AS WITH ${ctes.join(', ')} SELECT l.rid, ${NAMES.map((n, f) => `r${f}.v AS "${n}"`).join(', ')} FROM labels l ${joins.join(' ')}`
  }
  // Plan 2: pivot first — per feature the last value so far over each entity's records, one ASOF join.
  const pivot = (by: Mode) => {
    const key = by === 'event' ? 'et' : 'greatest(et, avail)'
    const cols = NAMES.map((n, f) =>
      by === 'event'
        ? `last_value(CASE WHEN feature = ${f} THEN ${col(f)} END IGNORE NULLS) OVER w AS "${n}"`
        : `arg_max(${col(f)}, et) FILTER (WHERE feature = ${f}) OVER w AS "${n}"`,
    )
    return `CREATE OR REPLACE TABLE res AS WITH wide AS (SELECT entity, ${key} AS k, ${cols.join(', ')} FROM recs WINDOW w AS (PARTITION BY entity ORDER BY ${key} ROWS UNBOUNDED PRECEDING))
      SELECT l.rid, ${NAMES.map((n) => `p."${n}"`).join(', ')} FROM labels l ASOF LEFT JOIN wide p ON l.entity = p.entity AND l.t >= p.k`
  }
  const timings: Record<string, number> = {}
  const checksum: Record<string, number[]> = {}
  const read = async () => {
    const r = await con.runAndReadAll(`SELECT rid, ${NAMES.map((n) => `"${n}"`).join(', ')} FROM res`)
    const cols = r.getColumns() as unknown[][]
    const c = new Checksum()
    const rid = cols[0] as number[]
    for (let f = 0; f < F; f++) {
      const v = cols[f + 1] as unknown[]
      for (let i = 0; i < rid.length; i++) c.add(f, rid[i] as number, v[i])
    }
    return c.list
  }
  for (const by of ['event', 'available'] as Mode[]) {
    for (const [plan, sql] of [
      ['per_feature', perFeature(by)],
      ['pivot', pivot(by)],
    ] as const) {
      if (!DUCKDB_PLANS.includes(plan)) continue
      try {
        timings[`${by}_${plan}`] = await best(() => con.run(sql))
        checksum[`${by}_${plan}`] = await read()
      } catch (err) {
        console.error(`duckdb ${by} ${plan} failed: ${String(err)}`)
      }
    }
  }
  con.closeSync()
  inst.closeSync()
  return { engine: 'duckdb', timings, checksum, peakRssMb: 0 }
}

// ---------------------------------------------------------------- Polars
async function runPolars(d: Data): Promise<ChildResult> {
  const pl = (await import('nodejs-polars')).default
  const n = d.ent.length
  const rid = new Int32Array(d.labelT.length)
  for (let i = 0; i < rid.length; i++) rid[i] = i
  const left = pl.DataFrame({ rid, entity: d.labelEnt, t: pl.Series('t', d.labelT).cast(pl.Int64) })
  // One frame per value type, as the long table filtered by type: entity, feature, et, value.
  const byKind = new Map<Kind, import('nodejs-polars').DataFrame>()
  for (const kind of ['double', 'int64', 'string', 'bool'] as Kind[]) {
    const idx: number[] = []
    for (let i = 0; i < n; i++) if (KINDS[d.fid[i] as number] === kind) idx.push(i)
    const pick = <T>(a: ArrayLike<number>, map: (x: number) => T) => idx.map((i) => map(a[i] as number))
    const v =
      kind === 'double'
        ? pl.Series(
            'v',
            Float64Array.from(idx, (i) => d.val[i] as number),
          )
        : kind === 'int64'
          ? pl
              .Series(
                'v',
                Float64Array.from(idx, (i) => d.val[i] as number),
              )
              .cast(pl.Int64)
          : kind === 'string'
            ? pl.Series(
                'v',
                pick(d.val, (x) => CAT[x] as string),
              )
            : pl.Series(
                'v',
                pick(d.val, (x) => x === 1),
              )
    byKind.set(
      kind,
      pl.DataFrame({
        entity: Int32Array.from(idx, (i) => d.ent[i] as number),
        feature: Int32Array.from(idx, (i) => d.fid[i] as number),
        et: pl
          .Series(
            'et',
            Float64Array.from(idx, (i) => d.et[i] as number),
          )
          .cast(pl.Int64),
        avail: pl
          .Series(
            'avail',
            Float64Array.from(idx, (i) => d.at[i] as number),
          )
          .cast(pl.Int64),
        v,
      }),
    )
  }
  const timings: Record<string, number> = {}
  let out: import('nodejs-polars').DataFrame = left
  timings.event = await best(() => {
    out = left.sort('t')
    for (let f = 0; f < F; f++) {
      const r = (byKind.get(KINDS[f] as Kind) as import('nodejs-polars').DataFrame)
        .filter(pl.col('feature').eq(pl.lit(f)))
        .select('entity', 'et', pl.col('v').alias(NAMES[f] as string))
        .sort('et')
      out = out.joinAsof(r, { leftOn: 't', rightOn: 'et', by: 'entity', strategy: 'backward' }).drop('et')
    }
  })
  const c = new Checksum()
  const r = out.getColumn('rid').toArray() as unknown as number[]
  for (let f = 0; f < F; f++) {
    const v = out.getColumn(NAMES[f] as string).toArray() as unknown as unknown[]
    for (let i = 0; i < r.length; i++) c.add(f, r[i] as number, v[i])
  }
  return { engine: 'polars', timings, checksum: { event: c.list }, peakRssMb: 0 }
}

async function runChild(engine: string): Promise<void> {
  const data = generate()
  const run = engine === 'lib' ? runLib : engine === 'duckdb' ? runDuck : runPolars
  const result = await run(data)
  result.peakRssMb = process.resourceUsage().maxRSS / 1024
  console.log(JSON.stringify(result))
}

function spawnChild(engine: string): ChildResult {
  const res = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    env: { ...process.env, ASOF_WIDE_ENGINE: engine },
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const last =
    (res.stdout ?? '')
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{"engine"'))
      .pop() ?? ''
  if (res.status !== 0 || !last.startsWith('{')) {
    throw new Error(`child ${engine} failed (status ${res.status}):\n${res.stdout}`)
  }
  return JSON.parse(last) as ChildResult
}

async function main(): Promise<void> {
  console.log(
    `asof-wide bench: ${RECORDS} records over ${F} features (10 double, 4 int64, 4 string, 2 bool), ${ENTITIES} entities, ${LABELS} labels, 30 days, unsorted; best of ${REPEAT}`,
  )
  const results = new Map<string, ChildResult>()
  for (const engine of ENGINES) {
    const r = spawnChild(engine)
    results.set(engine, r)
    console.error(`done ${engine}: ${JSON.stringify(r.timings)} peak ${r.peakRssMb.toFixed(0)} MB`)
  }
  const same = (a: number[] | undefined, b: number[] | undefined) =>
    a !== undefined && b !== undefined && a.length === b.length && a.every((x, i) => x === b[i])
  console.log('')
  console.log('engine   step                          ms   checksum(f0..)            peak_rss_mb')
  for (const r of results.values()) {
    for (const [step, ms] of Object.entries(r.timings)) {
      const sum = r.checksum[step]
      console.log(
        `${r.engine.padEnd(8)} ${step.padEnd(26)} ${ms.toFixed(0).padStart(7)}   ${sum ? String(sum[0]).padEnd(24) : '-'.padEnd(24)} ${r.peakRssMb.toFixed(0).padStart(6)}`,
      )
    }
  }
  const lib = results.get('lib')
  const duck = results.get('duckdb')
  const pol = results.get('polars')
  let match = true
  const check = (what: string, a: number[] | undefined, b: number[] | undefined) => {
    const ok = same(a, b)
    match = match && ok
    console.log(`checksum ${what}: ${ok}`)
  }
  const duckBest = (by: Mode) => {
    const plans = ['per_feature', 'pivot'].filter((p) => duck?.timings[`${by}_${p}`] !== undefined)
    plans.sort((a, b) => (duck?.timings[`${by}_${a}`] as number) - (duck?.timings[`${by}_${b}`] as number))
    return plans[0]
  }
  if (lib) {
    check('lib event, one batch vs small batches', lib.checksum.event, lib.checksum.event_small_batches)
    check(
      'lib available, one batch vs small batches',
      lib.checksum.available,
      lib.checksum.available_small_batches,
    )
  }
  if (duck) {
    for (const by of ['event', 'available'] as Mode[]) {
      for (const plan of ['per_feature', 'pivot']) {
        if (duck.checksum[`${by}_${plan}`])
          check(`duckdb ${by} ${plan} vs lib`, duck.checksum[`${by}_${plan}`], lib?.checksum[by])
      }
    }
  }
  if (pol) check('polars event vs lib', pol.checksum.event, lib?.checksum.event)
  const plan = duckBest('event')
  const ms = lib?.timings.event
  const duckMs = plan ? duck?.timings[`event_${plan}`] : undefined
  const polMs = pol?.timings.event
  const round = (x: number | undefined) => (x === undefined ? null : Math.round(x * 100) / 100)
  if (lib && duck) {
    const ap = duckBest('available')
    console.log(
      `available mode: lib ${lib.timings.available?.toFixed(0)} ms vs duckdb ${ap} ${ap ? duck.timings[`available_${ap}`]?.toFixed(0) : '-'} ms; duckdb event plan kept: ${plan}`,
    )
  }
  console.log(
    JSON.stringify({
      bench: 'asof-wide',
      features: F,
      ms: ms === undefined ? null : Math.round(ms),
      duckdb_ms: duckMs === undefined ? null : Math.round(duckMs),
      polars_ms: polMs === undefined ? null : Math.round(polMs),
      ratio_vs_duckdb: ms !== undefined && duckMs !== undefined ? round(ms / duckMs) : null,
      ratio_vs_polars: ms !== undefined && polMs !== undefined ? round(ms / polMs) : null,
      small_batches_ratio: lib
        ? round((lib.timings.event_small_batches as number) / (lib.timings.event as number))
        : null,
      checksum_match: match,
      peak_rss_mb: lib ? Math.round(lib.peakRssMb) : null,
    }),
  )
}

if (process.env.ASOF_WIDE_ENGINE) await runChild(process.env.ASOF_WIDE_ENGINE)
else await main()
