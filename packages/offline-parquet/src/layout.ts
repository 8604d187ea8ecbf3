import { InvalidDefinitionError } from '@skewless/core'

/** Milliseconds per UTC day. */
export const DAY_MS = 86_400_000

/**
 * Feature names become directory names (`feature=<name>`), which Hive-style readers (DuckDB, Spark)
 * parse back without decoding, so only characters that need no escaping are allowed.
 */
const SAFE_NAME = /^[A-Za-z0-9_.-]+$/

/** Throw when a feature name cannot be a partition directory name. */
export function checkFeatureName(name: string): void {
  if (!SAFE_NAME.test(name) || name === '.' || name === '..') {
    throw new InvalidDefinitionError(
      `offline-parquet: feature name "${name}" cannot be a partition directory; use only letters, digits, '_', '.', '-'`,
    )
  }
}

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

/** Min/max times of a committed file, as recorded in its name. */
export interface SegmentBounds {
  minEventTime: number
  maxEventTime: number
  minAvailableTime: number
  maxAvailableTime: number
}

/** Name of a committed segment: sortable by writer and sequence, with its time bounds. */
export function segmentName(writerId: string, seq: number, b: SegmentBounds): string {
  const s = String(seq).padStart(8, '0')
  return `part-${writerId}-${s}_e${b.minEventTime}_${b.maxEventTime}_a${b.minAvailableTime}_${b.maxAvailableTime}.parquet`
}

const SEGMENT_RE = /^part-[A-Za-z0-9]+-\d+_e(-?\d+)_(-?\d+)_a(-?\d+)_(-?\d+)\.parquet$/

/** Parse the bounds out of a committed segment name; `undefined` for any other name. */
export function parseSegmentName(name: string): SegmentBounds | undefined {
  const m = SEGMENT_RE.exec(name)
  if (!m) return undefined
  return {
    minEventTime: Number(m[1]),
    maxEventTime: Number(m[2]),
    minAvailableTime: Number(m[3]),
    maxAvailableTime: Number(m[4]),
  }
}

/** Temporary files start with `_` (ignored by Hive-style readers) and end with `.tmp` (not `*.parquet`). */
export const TEMP_PREFIX = '_tmp-'
export const TEMP_SUFFIX = '.tmp'
/** Directory holding commit journals (redo records of multi-file commits). */
export const JOURNAL_DIR = '_journal'

/** A writer id: unique per open log, short, sortable by time. */
export function newWriterId(): string {
  return Date.now().toString(36) + Math.random().toString(36).slice(2, 6)
}
