/**
 * Test fixtures: log records as plain objects, an Arrow table of them in the offline-log layout,
 * a small fake `OfflineLog` over that table (until @skewless/offline-log's memoryLog is committed),
 * and the brute-force oracle the kernel is checked against.
 */
import type { FeatureWrite, ValueType } from '@skewless/core'
import { compareRecord } from '@skewless/core/adapter'
import type { OfflineLog, ScanOptions } from '@skewless/offline-log'
import {
  Bool,
  Float64,
  Int32,
  Int64,
  type RecordBatch,
  Table,
  TimestampMillisecond,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow'

export interface Rec {
  entity: string | number
  feature: string
  value: number | string | boolean | bigint | null
  eventTime: number
  availableTime: number
  version: number
  outcome: 'applied' | 'stale'
  tileStart?: number | null
}

const COL: Record<ValueType, string> = {
  double: 'value_double',
  int64: 'value_int64',
  string: 'value_string',
  bool: 'value_bool',
}

/** An Arrow table of records. `intEntities`: entity column Int32 instead of Utf8. */
export function logTable(
  records: readonly Rec[],
  types: Record<string, ValueType>,
  opts: { intEntities?: boolean; batchSize?: number; tiles?: boolean } = {},
): Table {
  const batchSize = opts.batchSize ?? Math.max(1, records.length)
  const batches: RecordBatch[] = []
  for (let s = 0; s < Math.max(1, records.length); s += batchSize) {
    const rs = records.slice(s, s + batchSize)
    const val = (t: ValueType) => rs.map((r) => (types[r.feature] === t ? r.value : null))
    const cols: Record<string, Vector> = {
      entity: opts.intEntities
        ? vectorFromArray(
            rs.map((r) => Number(r.entity)),
            new Int32(),
          )
        : vectorFromArray(
            rs.map((r) => String(r.entity)),
            new Utf8(),
          ),
      feature: vectorFromArray(
        rs.map((r) => r.feature),
        new Utf8(),
      ),
      [COL.double]: vectorFromArray(val('double') as (number | null)[], new Float64()),
      [COL.int64]: vectorFromArray(
        val('int64').map((v) => (v === null ? null : BigInt(v as number))),
        new Int64(),
      ),
      [COL.string]: vectorFromArray(val('string') as (string | null)[], new Utf8()),
      [COL.bool]: vectorFromArray(val('bool') as (boolean | null)[], new Bool()),
      event_time: vectorFromArray(
        rs.map((r) => r.eventTime),
        new TimestampMillisecond(),
      ),
      available_time: vectorFromArray(
        rs.map((r) => r.availableTime),
        new TimestampMillisecond(),
      ),
      version: vectorFromArray(
        rs.map((r) => BigInt(r.version)),
        new Int64(),
      ),
      outcome: vectorFromArray(
        rs.map((r) => r.outcome),
        new Utf8(),
      ),
      tile_start: vectorFromArray(
        rs.map((r) => r.tileStart ?? null),
        new TimestampMillisecond(),
      ),
    }
    batches.push(...new Table(cols).batches)
  }
  return new Table(batches)
}

/** A minimal OfflineLog over records: `scan` yields Arrow batches filtered by feature and event time. */
export function fakeLog(
  records: readonly Rec[],
  types: Record<string, ValueType>,
  batchSize = 7,
): OfflineLog {
  return {
    capabilities: { durable: false, sortedSegments: false },
    featureTypes: types,
    async append() {},
    async appendMarked() {},
    async readMarks() {
      return {}
    },
    write() {},
    async flush() {},
    async close() {},
    async *scan(o: ScanOptions) {
      const rs = records.filter(
        (r) =>
          o.features.includes(r.feature) &&
          (o.includeStale || r.outcome !== 'stale') &&
          r.eventTime >= (o.from ?? Number.NEGATIVE_INFINITY) &&
          r.eventTime < (o.to ?? Number.POSITIVE_INFINITY),
      )
      if (rs.length === 0) return
      yield* logTable(rs, types, { batchSize }).batches
    },
    async *scanRows() {
      yield records as unknown as FeatureWrite[]
    },
    async stateAt() {
      return []
    },
  }
}

export interface OracleOptions {
  by: 'available' | 'event'
  inclusive: boolean
  maxAge: Record<string, number>
}

/** Brute force: for each label and feature, the greatest eligible record by core's `compareRecord`, then index. */
export function oracle(
  labels: readonly { entity: string | number | null; time: number }[],
  records: readonly Rec[],
  features: readonly string[],
  o: OracleOptions,
): { rec: Rec | null; age: number | null }[][] {
  return labels.map((l) =>
    features.map((f) => {
      let best: Rec | null = null
      let bestIdx = -1
      records.forEach((r, idx) => {
        if (l.entity === null || String(r.entity) !== String(l.entity) || r.feature !== f) return
        if (r.outcome === 'stale') return
        const le = (x: number) => (o.inclusive ? x <= l.time : x < l.time)
        if (!le(r.eventTime)) return
        if (o.by === 'available' && !le(r.availableTime)) return
        const b = best as Rec | null
        const d =
          b === null
            ? 1
            : compareRecord(r.eventTime, r.version, r.availableTime, b.eventTime, b.version, b.availableTime)
        // Scan order: on a full tie the later record wins.
        if (d > 0 || (d === 0 && idx > bestIdx)) {
          best = r
          bestIdx = idx
        }
      })
      if (best === null) return { rec: null, age: null }
      const age = l.time - (best as Rec).eventTime
      if (age > (o.maxAge[f] ?? Number.POSITIVE_INFINITY)) return { rec: null, age: null }
      return { rec: best, age }
    }),
  )
}

/**
 * Brute force for an additive tile feature, straight from the online reader's definition: the
 * records eligible at `t` (as in `oracle`), the greatest per tileStart, then the tiles of
 * `windowAt(t)` summed in ascending tileStart order (null values add nothing), eventTime their
 * greatest; no tile in the window: 0 at the instant the newest older tile left it (or `t`); no
 * eligible record: null. `maxAge` filters on that eventTime.
 */
export function tileOracle(
  labels: readonly { entity: string | number | null; time: number }[],
  records: readonly Rec[],
  feature: string,
  window: { sizeMs: number; hopMs: number },
  o: { by: 'available' | 'event'; inclusive: boolean; maxAge?: number },
): ({ value: number; eventTime: number; age: number } | null)[] {
  return labels.map((l) => {
    const best = new Map<number, Rec>()
    for (const r of records) {
      if (l.entity === null || String(r.entity) !== String(l.entity) || r.feature !== feature) continue
      if (r.outcome === 'stale') continue
      const le = (x: number) => (o.inclusive ? x <= l.time : x < l.time)
      if (!le(r.eventTime) || (o.by === 'available' && !le(r.availableTime))) continue
      const s = r.tileStart as number
      const b = best.get(s)
      // Scan order: on a full tie the later record wins.
      if (
        b === undefined ||
        compareRecord(r.eventTime, r.version, r.availableTime, b.eventTime, b.version, b.availableTime) >= 0
      ) {
        best.set(s, r)
      }
    }
    if (best.size === 0) return null
    const end = Math.floor(l.time / window.hopMs) * window.hopMs + window.hopMs
    const start = end - window.sizeMs
    const starts = [...best.keys()].sort((a, b) => a - b)
    let sum = 0
    let eventTime = Number.NEGATIVE_INFINITY
    let inWindow = 0
    let decayedAt = Number.NEGATIVE_INFINITY
    for (const s of starts) {
      const r = best.get(s) as Rec
      if (s >= start && s < end) {
        inWindow++
        if (r.value !== null) sum += Number(r.value)
        eventTime = Math.max(eventTime, r.eventTime)
      } else if (s < start) decayedAt = Math.max(decayedAt, s + window.sizeMs)
    }
    if (inWindow === 0) eventTime = decayedAt === Number.NEGATIVE_INFINITY ? l.time : decayedAt
    const age = l.time - eventTime
    if (age > (o.maxAge ?? Number.POSITIVE_INFINITY)) return null
    return { value: inWindow === 0 ? 0 : sum, eventTime, age }
  })
}
