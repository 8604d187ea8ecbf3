import { END_STORABLE_TIME, InvalidDefinitionError, MIN_STORABLE_TIME } from '@skewless/core'

/** Milliseconds per UTC day. */
export const DAY_MS = 86_400_000

/**
 * Feature names become directory names (`feature=<name>`), which Hive-style readers (DuckDB, Spark)
 * parse back without decoding, so only characters that need no escaping are allowed.
 */
const SAFE_NAME = /^[A-Za-z0-9_.-]+$/
/** File systems limit a directory name to 255 bytes; `feature=` takes 8 of them. */
const MAX_FEATURE_NAME = 255 - 'feature='.length

/** Only characters that need no escaping, and not a name the file system reserves. */
const isSafeName = (name: string): boolean => SAFE_NAME.test(name) && name !== '.' && name !== '..'

/** Throw when a feature name cannot be a partition directory name. */
export function checkFeatureName(name: string): void {
  if (!isSafeName(name)) {
    throw new InvalidDefinitionError(
      `offline-parquet: feature name "${name}" cannot be a partition directory; use only letters, digits, '_', '.', '-'`,
    )
  }
  if (name.length > MAX_FEATURE_NAME) {
    throw new InvalidDefinitionError(
      `offline-parquet: feature name "${name.slice(0, 20)}…" has ${name.length} characters; a partition directory allows at most ${MAX_FEATURE_NAME}`,
    )
  }
}

/**
 * The event times a `date=YYYY-MM-DD` partition can name: UTC years 0000 to 9999. Outside them
 * `toISOString` writes `+010000-01-05…` / `-000001-…` (or throws past the range of a Date), which
 * would file a day under a wrong directory name that scans prune away.
 */
export const MIN_EVENT_TIME = MIN_STORABLE_TIME // 0000-01-01T00:00:00Z, core's storable-time rule
/** Exclusive end of `MIN_EVENT_TIME`'s range: 10000-01-01T00:00:00Z. */
export const END_EVENT_TIME = END_STORABLE_TIME

/** `YYYY-MM-DD` of a UTC day number. */
export function dayString(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10)
}

/** UTC day number of a `YYYY-MM-DD` string, or NaN. */
export function parseDay(s: string): number {
  const t = Date.parse(`${s}T00:00:00Z`)
  return Number.isNaN(t) ? Number.NaN : Math.floor(t / DAY_MS)
}

/** Relative directory of a partition. */
export function partitionDir(feature: string, day: number): string {
  return `feature=${feature}/date=${dayString(day)}`
}

/** Whether `dir` is a partition's relative directory exactly as `partitionDir` writes it. */
export function isPartitionDir(dir: string): boolean {
  const m = /^feature=([^/]+)\/date=([^/]+)$/.exec(dir)
  if (m === null) return false
  const [, feature, date] = m as unknown as [string, string, string]
  const day = parseDay(date)
  return (
    isSafeName(feature) && feature.length <= MAX_FEATURE_NAME && !Number.isNaN(day) && dayString(day) === date
  )
}

/** Min/max times of a committed file, as recorded in its name. */
export interface SegmentBounds {
  minEventTime: number
  maxEventTime: number
  minAvailableTime: number
  maxAvailableTime: number
}

/** Identity of a committed file: the writer that named it and that writer's file sequence number. */
export interface SegmentId {
  writer: string
  seq: number
}

/**
 * Total order of file ids: writer ids by (length, string) — they are base-36 times, so that is time
 * order, and `nextWriterId` makes every new writer sort after all writers of the directory — then
 * sequence. Compaction records the id range it replaces in its outputs' names (see coverage.ts).
 */
export function compareIds(a: SegmentId, b: SegmentId): number {
  if (a.writer !== b.writer) {
    if (a.writer.length !== b.writer.length) return a.writer.length - b.writer.length
    return a.writer < b.writer ? -1 : 1
  }
  return a.seq - b.seq
}

/** The id range `[lo, hi]` a compaction output replaces, and which part of its output set it is. */
export interface Cover {
  lo: SegmentId
  hi: SegmentId
  /** 1-based part number of this output. */
  part: number
  /** Number of outputs of the compaction. */
  parts: number
}

/** A file name of this library, parsed. */
export interface ParsedName {
  id: SegmentId
  bounds: SegmentBounds
  /** Set on compaction outputs. */
  cover: Cover | undefined
}

const pad = (seq: number) => String(seq).padStart(8, '0')

/** Name of a committed segment: sortable by writer and sequence, with its time bounds. */
export function segmentName(writerId: string, seq: number, b: SegmentBounds): string {
  return `part-${writerId}-${pad(seq)}_e${b.minEventTime}_${b.maxEventTime}_a${b.minAvailableTime}_${b.maxAvailableTime}.parquet`
}

/**
 * Name of a compaction output: a segment name plus `_r<loWriter>-<loSeq>-<hiWriter>-<hiSeq>` (the
 * id range of the files it replaces) and `_p<part>of<parts>`, so that any reader that lists the
 * directory can tell, from names alone, whether the compaction is complete (see coverage.ts).
 */
export function compactedName(writerId: string, seq: number, b: SegmentBounds, c: Cover): string {
  const base = segmentName(writerId, seq, b).slice(0, -'.parquet'.length)
  return `${base}_r${c.lo.writer}-${pad(c.lo.seq)}-${c.hi.writer}-${pad(c.hi.seq)}_p${c.part}of${c.parts}.parquet`
}

const NAME_RE =
  /^part-([A-Za-z0-9]+)-(\d+)_e(-?\d+)_(-?\d+)_a(-?\d+)_(-?\d+)(?:_r([A-Za-z0-9]+)-(\d+)-([A-Za-z0-9]+)-(\d+)_p(\d+)of(\d+))?\.parquet$/

/** Parse a committed file name of this library; `undefined` for any other name. */
export function parseName(name: string): ParsedName | undefined {
  const m = NAME_RE.exec(name)
  if (!m) return undefined
  const cover =
    m[7] === undefined
      ? undefined
      : {
          lo: { writer: m[7], seq: Number(m[8]) },
          hi: { writer: m[9] as string, seq: Number(m[10]) },
          part: Number(m[11]),
          parts: Number(m[12]),
        }
  return {
    id: { writer: m[1] as string, seq: Number(m[2]) },
    bounds: {
      minEventTime: Number(m[3]),
      maxEventTime: Number(m[4]),
      minAvailableTime: Number(m[5]),
      maxAvailableTime: Number(m[6]),
    },
    cover,
  }
}

/** Temporary files start with `_` (ignored by Hive-style readers) and end with `.tmp` (not `*.parquet`). */
export const TEMP_PREFIX = '_tmp-'
export const TEMP_SUFFIX = '.tmp'
/** Directory holding commit journals (redo records of multi-file commits). */
export const JOURNAL_DIR = '_journal'

/**
 * A writer id: unique per open log, short, sortable by time (base-36 milliseconds + 4 random
 * characters). `after` is the greatest writer id already in the directory: the new id sorts after it
 * even if the clock went back, because compaction relies on later writers having greater ids.
 */
export function newWriterId(after?: string): string {
  let t = Date.now()
  if (after !== undefined && after.length > 4) {
    const prev = Number.parseInt(after.slice(0, -4), 36)
    if (Number.isFinite(prev) && prev >= t) t = prev + 1
  }
  const id = t.toString(36) + Math.random().toString(36).slice(2, 6).padEnd(4, '0')
  if (after !== undefined && compareIds({ writer: id, seq: 0 }, { writer: after, seq: 0 }) <= 0) {
    return after + id // a foreign-looking id: longer sorts later
  }
  return id
}
