/**
 * The skew audit: the proof that training data equals serving data. Every value the online reader
 * served is joined, as of its read time and by availability, against the offline log; any
 * difference is training-serving skew. The target is zero.
 */
import { type Duration, type FeatureValue, InvalidArgumentError } from '@skewless/core'
import type { Table } from 'apache-arrow'
import { asOfJoin } from './join.js'
import type { FeatureRequest, LogInput } from './types.js'

/** A value the online reader served (structurally `ServedRecord` of @skewless/online-sink). */
export interface ServedValueRecord {
  /** Entity key. */
  entity: string
  /** Feature name. */
  feature: string
  /** What was served; `null` when missing or past its TTL. */
  value: FeatureValue
  /** Event time of the served value; `null` when missing. */
  eventTime?: number | null
  /** When it was served (ms since epoch). */
  readTime: number
}

/** Options of `skewAudit`. */
export interface SkewAuditOptions {
  /**
   * Per feature, the TTL the reader applied (`OnlineFeatureConfig.ttlMs`): the log side gets the same
   * `maxAge`, so a value hidden by the TTL online is null on both sides. @default none
   */
  maxAge?: Readonly<Record<string, Duration>>
  /** Also compare the served value's eventTime with the logged one. @default true */
  compareEventTime?: boolean
}

/** One served value that the log disagrees with. */
export interface SkewMismatch {
  entity: string
  feature: string
  readTime: number
  /** What the reader served. */
  served: FeatureValue
  /** What the log says was available at `readTime`. */
  logged: FeatureValue
  servedEventTime: number | null
  loggedEventTime: number | null
}

/** Result of `skewAudit`. */
export interface SkewReport {
  /** Served values checked. */
  checked: number
  /** Served values equal to the log's. */
  matched: number
  /** Every disagreement, in input order. */
  mismatches: SkewMismatch[]
  /** Counts per feature. */
  byFeature: Record<string, { checked: number; mismatches: number }>
}

/**
 * Compare served values with the offline log as of each read time (`by: 'available'`, inclusive).
 * Values compare exactly (NaN equals NaN; int64 bigints compare as numbers).
 *
 * Additive (tile) features are not audited here: the log holds their tiles, and the join rejects
 * them with `UnsupportedRecordError`.
 */
export async function skewAudit(
  served: readonly ServedValueRecord[],
  log: LogInput,
  options: SkewAuditOptions = {},
): Promise<SkewReport> {
  const compareEventTime = options.compareEventTime ?? true
  const n = served.length
  const entity: string[] = new Array(n)
  const time = new Float64Array(n)
  const names = new Set<string>()
  for (let i = 0; i < n; i++) {
    const s = served[i] as ServedValueRecord
    if (typeof s.entity !== 'string' || typeof s.feature !== 'string' || !Number.isFinite(s.readTime)) {
      throw new InvalidArgumentError(
        `skewAudit: served record ${i} needs a string entity, a string feature and a finite readTime`,
      )
    }
    entity[i] = s.entity
    time[i] = s.readTime
    names.add(s.feature)
  }
  const report: SkewReport = { checked: n, matched: 0, mismatches: [], byFeature: {} }
  if (n === 0) return report
  const requests: FeatureRequest[] = [...names].map((name) => ({
    name,
    maxAge: options.maxAge?.[name],
    includeEventTime: true,
  }))
  const joined: Table = await asOfJoin({ entity, time }, log, { features: requests, by: 'available' })
  const values = new Map<string, ReturnType<Table['getChild']>>()
  const times = new Map<string, ReturnType<Table['getChild']>>()
  for (const name of names) {
    values.set(name, joined.getChild(name))
    times.set(name, joined.getChild(`${name}__event_time`))
  }
  for (let i = 0; i < n; i++) {
    const s = served[i] as ServedValueRecord
    const stats = report.byFeature[s.feature] ?? { checked: 0, mismatches: 0 }
    report.byFeature[s.feature] = stats
    stats.checked++
    const logged = normalize(values.get(s.feature)?.get(i))
    const loggedTime = normalizeTime(times.get(s.feature)?.get(i))
    const servedTime = s.eventTime ?? null
    const same =
      sameValue(normalize(s.value), logged) &&
      (!compareEventTime || s.eventTime === undefined || servedTime === loggedTime)
    if (same) {
      report.matched++
      continue
    }
    stats.mismatches++
    report.mismatches.push({
      entity: s.entity,
      feature: s.feature,
      readTime: s.readTime,
      served: s.value,
      logged,
      servedEventTime: servedTime,
      loggedEventTime: loggedTime,
    })
  }
  return report
}

function normalize(v: unknown): FeatureValue {
  if (v === undefined || v === null) return null
  if (typeof v === 'bigint') return Number(v)
  return v as FeatureValue
}

function normalizeTime(v: unknown): number | null {
  if (v === undefined || v === null) return null
  if (v instanceof Date) return v.getTime()
  return Number(v)
}

function sameValue(a: FeatureValue, b: FeatureValue): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b || (Number.isNaN(a) && Number.isNaN(b))
  return a === b
}
