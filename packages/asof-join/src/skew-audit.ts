/**
 * The skew audit: the proof that training data equals serving data. Every value the online reader
 * served is joined, as of its read time and by availability, against the offline log; any
 * difference is training-serving skew. The target is zero.
 */
import {
  type AbortOptions,
  type Duration,
  type FeatureInfo,
  type FeatureValue,
  InvalidArgumentError,
  type OnlineFeatureConfig,
  type ServedRecord,
  toMs,
  type WindowSpec,
  windowAt,
} from '@skewless/core'
import { compareRecord } from '@skewless/core/adapter'
import { throwIfAborted } from '@skewless/core/internal'
import type { OfflineLog } from '@skewless/offline-log'
import type { Table } from 'apache-arrow'
import { auditRequests } from './audit-requests.js'
import { asOfJoin } from './join.js'
import type { FeatureRequest, LogInput } from './types.js'

/**
 * A value the online reader served: core's `ServedRecord` (what the reader records), whose
 * `eventTime` may be left out when it was not recorded (then it is not compared).
 */
export type ServedValueRecord = Omit<ServedRecord, 'eventTime'> & { eventTime?: number | null }

/**
 * How the reader served one feature: core's `OnlineFeatureConfig` (the reader's own config list can
 * be passed as is); the audit reads its `name`, `strategy` (`'additive'` marks a tile feature,
 * summed over `window`) and `ttlMs` (the log side's `maxAge`).
 */
export type AuditFeatureConfig = Pick<OnlineFeatureConfig, 'name'> &
  Partial<Pick<OnlineFeatureConfig, 'strategy' | 'ttlMs' | 'window'>>

/** Options of `skewAudit`. */
export interface SkewAuditOptions extends AbortOptions {
  /**
   * The reader's feature configs (`OnlineFeatureConfig[]`): each one's `ttlMs` becomes the log side's
   * `maxAge`, and an `'additive'` feature is recomputed from its tiles over its `window`. Required
   * for tile features (without it their tile records throw `UnsupportedRecordError`).
   * @default none
   */
  features?: readonly AuditFeatureConfig[]
  /**
   * Per feature, the TTL the reader applied (`OnlineFeatureConfig.ttlMs`): the log side gets the same
   * `maxAge`, so a value hidden by the TTL online is null on both sides. Overrides `features[].ttlMs`.
   * @default none
   */
  maxAge?: Readonly<Record<string, Duration>>
  /**
   * The feature definitions (`group.describe()`). A feature without an entry in `features` or
   * `maxAge` gets its definition's TTL (`ttlMs`, which `onlineFeatures` gave the reader) as the log
   * side's `maxAge`, and a tile feature its definition's window.
   * @default what the log records, when it has a `describe()`, else none
   */
  definitions?: readonly FeatureInfo[]
  /** Also compare the served value's eventTime with the logged one. @default true */
  compareEventTime?: boolean
  /**
   * The online sink stamps `availableTime` when the store's acknowledgement arrives: an upper bound,
   * since the store applied the write a little earlier. A read in between is served the new value
   * while the log says it was not available yet. With `inFlightMs` (e.g. the sink's p99 write
   * latency), a served value that differs from the log at its read time but equals, eventTime
   * included, what the log has `inFlightMs` later is reported in `inFlight` instead of
   * `mismatches`: a write in flight at the read, not skew. Each record's slack is at least its own
   * `answeredTime + 1 − readTime` (the read saw the store at some instant of that interval, and
   * availability is rounded up to the next ms); every ms of
   * the slack is probed (up to 256), so a second write of the pair inside it is handled too. A tile
   * sum is also compared with the log's tiles at each instant of the slack summed over the window
   * at `readTime`, as the reader sums them (a read sent before a window boundary and answered after
   * it, while the window's oldest tile was written).
   * @default 0 (only each record's `answeredTime` widens the slack)
   */
  inFlightMs?: Duration
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
  /** Every disagreement, in input order (without those in `inFlight`). */
  mismatches: SkewMismatch[]
  /**
   * Disagreements explained by a write in flight at the read (see `SkewAuditOptions.inFlightMs`),
   * in input order; `logged` is the log's value at the read time. Empty without `inFlightMs`.
   */
  inFlight: SkewMismatch[]
  /** Counts per feature. */
  byFeature: Record<string, { checked: number; mismatches: number; inFlight: number }>
}

/**
 * Compare served values with the offline log as of each read time (`by: 'available'`, inclusive).
 * Values compare exactly (NaN equals NaN; int64 bigints compare as numbers).
 *
 * Additive (tile) features are audited like the others once `options.features` gives their window:
 * the log side sums the tiles the store held at the read time exactly as the reader does (same
 * tiles, same order, same decay and TTL rules), so the served sum and its eventTime must match.
 */
export async function skewAudit(
  served: readonly ServedValueRecord[],
  log: LogInput,
  options: SkewAuditOptions = {},
): Promise<SkewReport> {
  const compareEventTime = options.compareEventTime ?? true
  const signal = options.signal
  throwIfAborted(signal, 'skewAudit')
  const inFlightMs = options.inFlightMs === undefined ? 0 : toMs(options.inFlightMs, 'skewAudit: inFlightMs')
  if (inFlightMs < 0)
    throw new InvalidArgumentError(`asof-join skewAudit: inFlightMs must be >= 0, got ${inFlightMs}`)
  const n = served.length
  const entity: string[] = new Array(n)
  const time = new Float64Array(n)
  const names = new Set<string>()
  for (let i = 0; i < n; i++) {
    const s = served[i] as ServedValueRecord
    if (typeof s.entity !== 'string' || typeof s.feature !== 'string' || !Number.isFinite(s.readTime)) {
      throw new InvalidArgumentError(
        `asof-join skewAudit: served record ${i} needs a string entity, a string feature and a finite readTime`,
      )
    }
    entity[i] = s.entity
    time[i] = s.readTime
    names.add(s.feature)
  }
  const report: SkewReport = { checked: n, matched: 0, mismatches: [], inFlight: [], byFeature: {} }
  if (n === 0) return report
  const configs = new Map<string, AuditFeatureConfig>()
  for (const c of options.features ?? []) {
    if (typeof c?.name !== 'string') {
      throw new InvalidArgumentError(
        'asof-join skewAudit: every entry of options.features needs a string name',
      )
    }
    configs.set(c.name, c)
  }
  const requests = await auditRequests(names, configs, options, log)
  const atRead = await compareAt(served, entity, time, log, requests, compareEventTime, signal)
  const inFlightAt = await explainInFlight(
    served,
    atRead,
    time,
    inFlightMs,
    log,
    requests,
    compareEventTime,
    signal,
  )
  for (let i = 0; i < n; i++) {
    const s = served[i] as ServedValueRecord
    const stats = report.byFeature[s.feature] ?? { checked: 0, mismatches: 0, inFlight: 0 }
    report.byFeature[s.feature] = stats
    stats.checked++
    if (atRead.verdicts[i] === SAME) {
      report.matched++
      continue
    }
    const x: SkewMismatch = {
      entity: s.entity,
      feature: s.feature,
      readTime: s.readTime,
      served: s.value,
      logged: atRead.logged[i] ?? null,
      servedEventTime: s.eventTime ?? null,
      loggedEventTime: atRead.loggedTime[i] ?? null,
    }
    if (inFlightAt.has(i)) {
      stats.inFlight++
      report.inFlight.push(x)
    } else {
      stats.mismatches++
      report.mismatches.push(x)
    }
  }
  return report
}

/** Most instants probed per disagreement; past it the slack is probed at evenly spaced instants. */
const MAX_PROBES = 256
/** Most probe rows per join (bounds its memory; each join reads the log once). */
const MAX_PROBE_ROWS = 1 << 18

/**
 * The disagreements that a write in flight explains: the served value equals the log's at some
 * instant of `(readTime, readTime + slack]`, slack = max(inFlightMs, answeredTime − readTime). The log
 * has ms resolution, so probing every ms of the slack is exhaustive (up to `MAX_PROBES` ms).
 */
async function explainInFlight(
  served: readonly ServedValueRecord[],
  atRead: Verdicts,
  time: Float64Array,
  inFlightMs: number,
  log: LogInput,
  requests: FeatureRequest[],
  compareEventTime: boolean,
  signal: AbortSignal | undefined,
): Promise<Set<number>> {
  const explained = new Set<number>()
  const open: number[] = []
  const slack = new Float64Array(served.length)
  for (let i = 0; i < served.length; i++) {
    if (atRead.verdicts[i] === SAME) continue
    const s = served[i] as ServedValueRecord
    // A write the read saw was applied by `answeredTime`; availability is rounded up to the next ms
    // (an upper bound), so it may say `answeredTime + 1`.
    const answered =
      typeof s.answeredTime === 'number' && Number.isFinite(s.answeredTime) ? s.answeredTime + 1 : s.readTime
    slack[i] = Math.max(inFlightMs, answered - s.readTime)
    if ((slack[i] as number) > 0) open.push(i)
  }
  // Every probe instant of every open disagreement goes into one join (a join per MAX_PROBE_ROWS
  // rows): the log is read once, not once per probed ms (256 reads of the whole log made the audit
  // of a few thousand values take half a minute).
  let rows: number[] = []
  let at: number[] = []
  const probe = async () => {
    const sub = rows.map((i) => served[i] as ServedValueRecord)
    const v = await compareAt(
      sub,
      sub.map((x) => x.entity),
      Float64Array.from(at),
      log,
      requests,
      compareEventTime,
      signal,
    )
    rows.forEach((i, a) => {
      if (v.verdicts[a] === SAME) explained.add(i)
    })
    rows = []
    at = []
  }
  for (const i of open) {
    const sl = slack[i] as number
    const step = sl <= MAX_PROBES ? 1 : sl / MAX_PROBES
    // Instants readTime + 1, + 2, … up to the slack (or MAX_PROBES evenly spaced instants).
    const probes = Math.ceil(Math.min(sl, MAX_PROBES))
    for (let k = 1; k <= probes; k++) {
      rows.push(i)
      at.push((time[i] as number) + Math.min(sl, Math.ceil(k * step)))
      if (rows.length >= MAX_PROBE_ROWS) await probe()
    }
  }
  if (rows.length > 0) await probe()
  await explainSuperseded(served, atRead, slack, explained, log, requests, signal)
  await explainTileSums(served, atRead, slack, explained, log, requests, compareEventTime, signal)
  return explained
}

/**
 * A tile sum is the store's tiles as they were at some instant of the read, summed over the window
 * at the *read time*: the reader takes `windowAt(readTime)` (online-sink `serve`), not the window at
 * the instant the store answered. The probes above evaluate the log's tiles and the window at one
 * instant, so a read in flight across a window boundary (a write of the window's oldest tile landing
 * after the boundary while the read waits) matches no probe: before the write the log lacks it,
 * after it the tile has left the window at the probe's instant (two-workers e2e: `logged: null`
 * and the served sum at one read time). Here the log's tiles at every instant of the slack where
 * they change (each record's eligibility) are summed as the reader did: window, decay and TTL at
 * `readTime`. Checked on the rows of the pairs concerned (a log given as a table is not scanned).
 */
async function explainTileSums(
  served: readonly ServedValueRecord[],
  atRead: Verdicts,
  slack: Float64Array,
  explained: Set<number>,
  logInput: LogInput,
  requests: FeatureRequest[],
  compareEventTime: boolean,
  signal: AbortSignal | undefined,
): Promise<void> {
  const log = logInput as Partial<OfflineLog>
  if (typeof log.scanRows !== 'function') return
  const byFeature = unexplainedByFeature(served, atRead, slack, explained, () => true)
  for (const [feature, idx] of byFeature) {
    const r = requests.find((x) => x.name === feature)
    const w = r?.window
    if (w === undefined || (w.kind !== 'tumbling' && w.kind !== 'hopping')) continue
    const maxAge =
      r?.maxAge === undefined || r.maxAge === Number.POSITIVE_INFINITY
        ? Number.POSITIVE_INFINITY
        : toMs(r.maxAge, `skewAudit: maxAge of ${feature}`)
    let to = Number.NEGATIVE_INFINITY
    const entities = new Set<string>()
    for (const i of idx) {
      const s = served[i] as ServedValueRecord
      entities.add(s.entity)
      if (s.readTime + (slack[i] as number) > to) to = s.readTime + (slack[i] as number)
    }
    // Every tile record of these entities eligible by the end of the last slack (the state at an
    // instant needs all earlier records), with its eligibility: availability, or its eventTime if later.
    const tiles = new Map<string, TileRecord[]>()
    const scan = log.scanRows({
      features: [feature],
      entities: [...entities],
      to: to + 1,
      by: 'available',
      ...(signal === undefined ? {} : { signal }),
    })
    for await (const rows of scan) {
      throwIfAborted(signal, 'skewAudit')
      for (const x of rows) {
        if (x.tileStart === undefined || x.outcome === 'stale') continue
        const at = Math.max(x.availableTime, x.eventTime)
        if (at > to) continue
        let list = tiles.get(x.entity)
        if (list === undefined) {
          list = []
          tiles.set(x.entity, list)
        }
        list.push({ tile: x.tileStart, et: x.eventTime, ver: x.version, at, value: normalize(x.value) })
      }
    }
    for (const list of tiles.values()) list.sort((a, b) => a.at - b.at)
    for (const i of idx) {
      const s = served[i] as ServedValueRecord
      const list = tiles.get(s.entity)
      if (list === undefined) continue
      const end = s.readTime + (slack[i] as number)
      const best = new Map<number, TileRecord>()
      const want = normalize(s.value)
      const matches = () => {
        const v = sumAt(best, w, s.readTime, maxAge)
        return (
          sameValue(want, v.value) &&
          (!compareEventTime || s.eventTime === undefined || (s.eventTime ?? null) === v.eventTime)
        )
      }
      // The state at each instant of (readTime, end] where it changes: after the records of that instant.
      for (let k = 0; k < list.length; k++) {
        const x = list[k] as TileRecord
        if (x.at > end) break
        const cur = best.get(x.tile)
        if (cur === undefined || compareRecord(x.et, x.ver, x.at, cur.et, cur.ver, cur.at) > 0)
          best.set(x.tile, x)
        const next = list[k + 1]
        if (x.at > s.readTime && (next === undefined || next.at > x.at) && matches()) {
          explained.add(i)
          break
        }
      }
    }
  }
}

/** A tile record as `explainTileSums` replays them: eligible from `at`. */
interface TileRecord {
  tile: number
  et: number
  ver: number
  at: number
  value: FeatureValue
}

/**
 * What the reader serves from these tiles at `readTime` (online-sink `sumTiles`, then its TTL): the
 * sum over the tiles of the window at `readTime` in ascending tileStart order, with their greatest
 * eventTime; 0 at the instant the newest older tile left the window when none is in it; null without tiles.
 */
function sumAt(
  best: ReadonlyMap<number, TileRecord>,
  w: { sizeMs: number; hopMs: number },
  readTime: number,
  maxAge: number,
): { value: FeatureValue; eventTime: number | null } {
  if (best.size === 0) return { value: null, eventTime: null }
  const win = windowAt(readTime, w as WindowSpec)
  const inWindow = [...best.values()]
    .filter((x) => x.tile >= win.start && x.tile < win.end)
    .sort((a, b) => a.tile - b.tile)
  let sum = 0
  let eventTime = Number.NEGATIVE_INFINITY
  let decayedAt = Number.NEGATIVE_INFINITY
  for (const x of inWindow) {
    if (typeof x.value === 'number') sum += x.value
    if (x.et > eventTime) eventTime = x.et
  }
  if (inWindow.length === 0) {
    for (const x of best.values())
      if (x.tile < win.start && x.tile + w.sizeMs > decayedAt) decayedAt = x.tile + w.sizeMs
    eventTime = decayedAt === Number.NEGATIVE_INFINITY ? readTime : decayedAt
    sum = 0
  }
  if (readTime - eventTime > maxAge) return { value: null, eventTime: null }
  return { value: sum, eventTime }
}

/**
 * A read can see a value that two writes of the same ms made visible and hid again: at ms resolution
 * the log has no instant where it is the answer, but it holds the record, available inside the read's
 * window. Such a read is in flight too. Checked on the rows of the pairs concerned (value features;
 * a log given as a table is not scanned).
 */
async function explainSuperseded(
  served: readonly ServedValueRecord[],
  atRead: Verdicts,
  slack: Float64Array,
  explained: Set<number>,
  logInput: LogInput,
  requests: FeatureRequest[],
  signal: AbortSignal | undefined,
): Promise<void> {
  const log = logInput as Partial<OfflineLog>
  if (typeof log.scanRows !== 'function') return
  // A sum of tiles is judged by explainTileSums; a null served is no superseded value.
  const byFeature = unexplainedByFeature(
    served,
    atRead,
    slack,
    explained,
    (s) => s.value !== null && !requests.some((r) => r.name === s.feature && r.window !== undefined),
  )
  for (const [feature, idx] of byFeature) {
    let from = Number.POSITIVE_INFINITY
    let to = Number.NEGATIVE_INFINITY
    const entities = new Set<string>()
    for (const i of idx) {
      const s = served[i] as ServedValueRecord
      entities.add(s.entity)
      if (s.readTime < from) from = s.readTime
      if (s.readTime + (slack[i] as number) > to) to = s.readTime + (slack[i] as number)
    }
    const seen = new Map<string, number[]>()
    const scan = log.scanRows({
      features: [feature],
      entities: [...entities],
      from,
      to: to + 1,
      by: 'available',
      ...(signal === undefined ? {} : { signal }),
    })
    for await (const rows of scan) {
      throwIfAborted(signal, 'skewAudit')
      for (const w of rows) {
        const k = `${w.entity}\u0000${w.eventTime}\u0000${String(w.value)}`
        let ts = seen.get(k)
        if (ts === undefined) {
          ts = []
          seen.set(k, ts)
        }
        ts.push(w.availableTime)
      }
    }
    for (const i of idx) {
      const s = served[i] as ServedValueRecord
      const ts = seen.get(`${s.entity}\u0000${s.eventTime}\u0000${String(normalize(s.value))}`)
      if (ts?.some((t) => t > s.readTime && t <= s.readTime + (slack[i] as number))) explained.add(i)
    }
  }
}

const SAME = 1

interface Verdicts {
  /** Per served record: `SAME` or 0. */
  verdicts: Uint8Array
  logged: FeatureValue[]
  loggedTime: (number | null)[]
}

/** Join `served` as of `time` (by availability) and compare each served value with the log's. */
async function compareAt(
  served: readonly ServedValueRecord[],
  entity: string[],
  time: Float64Array,
  log: LogInput,
  requests: FeatureRequest[],
  compareEventTime: boolean,
  signal: AbortSignal | undefined,
): Promise<Verdicts> {
  // The definitions are in the requests already: `[]` keeps the join from reading them again.
  const joined: Table = await asOfJoin({ entity, time }, log, {
    features: requests,
    by: 'available',
    definitions: [],
    // Read times are the reader's clock, recorded in ms: not a user's guess at the unit.
    allowEarlyTimes: true,
    ...(signal === undefined ? {} : { signal }),
  })
  const n = served.length
  const values = new Map<string, ReturnType<Table['getChild']>>()
  const times = new Map<string, ReturnType<Table['getChild']>>()
  for (const r of requests) {
    values.set(r.name, joined.getChild(r.name))
    times.set(r.name, joined.getChild(`${r.name}__event_time`))
  }
  const out: Verdicts = { verdicts: new Uint8Array(n), logged: new Array(n), loggedTime: new Array(n) }
  for (let i = 0; i < n; i++) {
    const s = served[i] as ServedValueRecord
    const logged = normalize(values.get(s.feature)?.get(i))
    const loggedTime = normalizeTime(times.get(s.feature)?.get(i))
    out.logged[i] = logged
    out.loggedTime[i] = loggedTime
    const same =
      sameValue(normalize(s.value), logged) &&
      (!compareEventTime || s.eventTime === undefined || (s.eventTime ?? null) === loggedTime)
    if (same) out.verdicts[i] = SAME
  }
  return out
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

/** Indices of the served records still disagreeing, with a slack, that `keep` accepts, by feature. */
function unexplainedByFeature(
  served: readonly ServedValueRecord[],
  atRead: Verdicts,
  slack: Float64Array,
  explained: Set<number>,
  keep: (s: ServedValueRecord) => boolean,
): Map<string, number[]> {
  const byFeature = new Map<string, number[]>()
  for (let i = 0; i < served.length; i++) {
    const s = served[i] as ServedValueRecord
    if (atRead.verdicts[i] === SAME || explained.has(i) || !((slack[i] as number) > 0) || !keep(s)) continue
    let idx = byFeature.get(s.feature)
    if (idx === undefined) {
      idx = []
      byFeature.set(s.feature, idx)
    }
    idx.push(i)
  }
  return byFeature
}
