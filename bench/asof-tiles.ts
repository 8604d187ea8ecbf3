/**
 * `pnpm bench asof-tiles`: the as-of join of an additive tile feature (`{ name, window }`, records
 * with `tile_start`), 2M tile records (100k entities, unsorted, 30 days) against 1M labels, for a 1 h
 * window of 5 min tiles and a 24 h window of 1 h tiles. Same-run baseline: the whole-value join of
 * the same records without `tile_start` (same labels, same log size), single-threaded like the tile
 * path (`workers: 0`); the default (apply worker) time is shown too. Each tile answer is checked row
 * by row against an independent reference (bench/lib/tile-reference.ts). Timed joins alternate
 * between the modes, BENCH_REPEAT rounds, best time counts (the machine is shared).
 *
 * Env: BENCH_RECORDS (2_000_000), BENCH_LABELS (1_000_000), BENCH_ENTITIES (100_000), BENCH_REPEAT (3).
 */
import { asOfJoinTable, type FeatureRequest } from '@skewless/asof-join'
import { hopping } from '@skewless/core'
import * as A from 'apache-arrow'
import { xorshift } from './lib/rng.ts'
import { type TileAnswer, type TileLog, tileReference } from './lib/tile-reference.ts'

const RECORDS = Number(process.env.BENCH_RECORDS ?? 2_000_000)
const LABELS = Number(process.env.BENCH_LABELS ?? 1_000_000)
const ENTITIES = Number(process.env.BENCH_ENTITIES ?? 100_000)
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3)
const DAY = 86_400_000
const T0 = Date.UTC(2026, 9, 1)
const SPAN = 30 * DAY
const WINDOWS = { '1h': hopping('1h', '5m'), '24h': hopping('24h', '1h') }
type WindowName = keyof typeof WINDOWS

/** Deterministic records (without their tile) and labels, in the shape of bench/asof.ts. */
function generate() {
  const rand = xorshift(0x7f4a7c15)
  const log = {
    ent: new Int32Array(RECORDS),
    et: new Float64Array(RECORDS),
    at: new Float64Array(RECORDS),
    ver: new Int32Array(RECORDS),
    val: new Float64Array(RECORDS),
    /** Hops between the record's tile and its eventTime's tile: 0, or 1..3 for a late event. */
    back: new Int8Array(RECORDS),
  }
  const step = Math.floor(SPAN / RECORDS)
  for (let i = 0; i < RECORDS; i++) {
    log.et[i] = T0 + i * step + Math.floor(rand() * step)
    log.ent[i] = Math.floor(rand() * ENTITIES)
    log.at[i] =
      (log.et[i] as number) + (rand() < 0.05 ? Math.floor(rand() * 6 * 3_600_000) : Math.floor(rand() * 2000))
    // A tile's partial sum in tenths: inexact in binary, so a sum in another order would show.
    log.val[i] = Math.floor(rand() * 10_000) / 10
    log.back[i] = rand() < 0.05 ? 1 + Math.floor(rand() * 3) : 0
  }
  for (let i = RECORDS - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    for (const a of [log.ent, log.et, log.at, log.val, log.back]) {
      const t = a[i] as number
      a[i] = a[j] as number
      a[j] = t
    }
  }
  const labelEnt = new Int32Array(LABELS)
  const labelT = new Float64Array(LABELS)
  for (let i = 0; i < LABELS; i++) {
    labelEnt[i] = rand() < 0.01 ? ENTITIES + Math.floor(rand() * 1000) : Math.floor(rand() * ENTITIES)
    labelT[i] = T0 - DAY + Math.floor(rand() * (SPAN + DAY))
  }
  return { log, labelEnt, labelT }
}

const ts = (x: Float64Array) => {
  const w = new BigInt64Array(x.length)
  for (let i = 0; i < x.length; i++) w[i] = BigInt(x[i] as number)
  return A.makeVector(A.makeData({ type: new A.TimestampMillisecond(), length: x.length, data: w }))
}
const int32 = (x: Int32Array) => A.makeVector(A.makeData({ type: new A.Int32(), length: x.length, data: x }))

function logTable(log: TileLog | Omit<TileLog, 'tile'>): A.Table {
  const n = log.ent.length
  const cols: Record<string, A.Vector> = {
    entity: int32(log.ent),
    feature: A.makeVector(
      A.makeData({
        type: new A.Dictionary(new A.Utf8(), new A.Int8()),
        length: n,
        data: new Int8Array(n),
        dictionary: A.vectorFromArray(['f'], new A.Utf8()),
      }),
    ),
    value_double: A.makeVector(log.val),
    event_time: ts(log.et),
    available_time: ts(log.at),
    version: int32(log.ver),
  }
  if ('tile' in log) cols.tile_start = ts(log.tile)
  return new A.Table(cols)
}

const { log, labelEnt, labelT } = generate()
const rid = new Int32Array(LABELS).map((_, i) => i)
const labels = new A.Table({ rid: int32(rid), entity: int32(labelEnt), time: ts(labelT) })
const valueLog = logTable(log)
const tileLogs = {} as Record<WindowName, { table: A.Table; ref: TileAnswer }>
for (const name of Object.keys(WINDOWS) as WindowName[]) {
  const { hopMs } = WINDOWS[name]
  const tile = new Float64Array(RECORDS)
  for (let i = 0; i < RECORDS; i++) {
    tile[i] = (Math.floor((log.et[i] as number) / hopMs) - (log.back[i] as number)) * hopMs
  }
  const tl: TileLog = { ...log, tile }
  const ref = tileReference(tl, labelEnt, labelT, ENTITIES, WINDOWS[name], true)
  tileLogs[name] = { table: logTable(tl), ref }
}

type Mode = 'value' | 'value_worker' | `tile_${WindowName}`
const runs: Record<Mode, () => A.Table> = {
  value: () => asOfJoinTable(labels, valueLog, { features: ['f'], workers: 0 }),
  value_worker: () => asOfJoinTable(labels, valueLog, { features: ['f'] }),
  tile_1h: () => tileJoin('1h'),
  tile_24h: () => tileJoin('24h'),
}
function tileJoin(name: WindowName): A.Table {
  const features: FeatureRequest[] = [{ name: 'f', window: WINDOWS[name] }]
  return asOfJoinTable(labels, tileLogs[name].table, { features, includeEventTime: true })
}

/** Rows where the library's tile answer differs from the reference (value or eventTime, bit for bit). */
function mismatches(out: A.Table, ref: TileAnswer): number {
  const v = out.getChild('f') as A.Vector
  const e = out.getChild('f__event_time') as A.Vector
  let bad = 0
  for (let i = 0; i < LABELS; i++) {
    const x = v.get(i) as number | null
    const y = e.get(i) as number | null
    const want = ref.value[i] as number
    if (Number.isNaN(want) ? x !== null : x !== want || Number(y) !== ref.eventTime[i]) bad++
  }
  return bad
}

const best = {} as Record<Mode, number>
const bad = {} as Record<string, number>
for (let r = 0; r < REPEAT; r++) {
  for (const mode of Object.keys(runs) as Mode[]) {
    const t0 = performance.now()
    const out = runs[mode]()
    best[mode] = Math.min(best[mode] ?? Number.POSITIVE_INFINITY, performance.now() - t0)
    if (r === 0 && mode.startsWith('tile_')) {
      bad[mode] = mismatches(out, tileLogs[mode.slice(5) as WindowName].ref)
    }
  }
}

console.log(
  `asof-tiles bench: ${RECORDS} records, ${ENTITIES} entities, ${LABELS} labels, 30 days, unsorted, best of ${REPEAT}`,
)
console.log('mode                 ms   vs value   mismatches_vs_reference')
for (const mode of Object.keys(runs) as Mode[]) {
  const ms = best[mode] as number
  console.log(
    `${mode.padEnd(14)} ${ms.toFixed(0).padStart(8)}   ${(ms / best.value).toFixed(2).padStart(8)}   ${bad[mode] ?? '-'}`,
  )
}
const round = (x: number) => Math.round(x * 100) / 100
console.log(
  JSON.stringify({
    bench: 'asof-tiles',
    records: RECORDS,
    labels: LABELS,
    tile_ms: Math.round(best.tile_1h),
    tile_24h_ms: Math.round(best.tile_24h),
    value_ms: Math.round(best.value),
    value_worker_ms: Math.round(best.value_worker),
    ratio_vs_value_join: round(best.tile_1h / best.value),
    ratio_24h_vs_value_join: round(best.tile_24h / best.value),
    checksum_match: bad.tile_1h === 0 && bad.tile_24h === 0,
  }),
)
