/**
 * The one rule for which instants Skewless can carry end to end. The pipeline enforces it at its
 * door (events outside it are dead-lettered `invalid-time`), the online sink and the offline log
 * call it too, so a time that passes the pipeline is never refused later by the log.
 *
 * Why this range: the offline log stores times as INT64 / TIMESTAMP_MILLIS (whole ms: a fraction
 * would be truncated silently) and files each record under a `date=YYYY-MM-DD` partition, which
 * can name only the UTC years 0000 to 9999 (`toISOString` writes `+010000-…` past them).
 */
import { describe } from './value-types.js'

/** Earliest storable instant (inclusive): 0000-01-01T00:00:00.000Z. */
export const MIN_STORABLE_TIME = -62_167_219_200_000
/** End of the storable instants (exclusive): 10000-01-01T00:00:00.000Z. */
export const END_STORABLE_TIME = 253_402_300_800_000

/**
 * Whether `ms` is an instant every component stores as is: a whole number of ms since the epoch
 * within the UTC years 0000 to 9999 (`MIN_STORABLE_TIME <= ms < END_STORABLE_TIME`).
 */
export function isStorableTime(ms: unknown): ms is number {
  return typeof ms === 'number' && Number.isInteger(ms) && ms >= MIN_STORABLE_TIME && ms < END_STORABLE_TIME
}

/**
 * `undefined` when `ms` passes `isStorableTime`, else a message naming `what` (e.g. `'event time'`),
 * the value, and what to change.
 */
export function checkStorableTime(ms: unknown, what = 'event time'): string | undefined {
  if (isStorableTime(ms)) return undefined
  if (typeof ms !== 'number' || Number.isNaN(ms)) {
    return `${what} is not a finite instant: ${describe(ms)}; give ms since the epoch, a Date or an ISO-8601 string`
  }
  if (!Number.isFinite(ms)) return `${what} is not a finite instant: ${ms}`
  if (ms >= MIN_STORABLE_TIME && ms < END_STORABLE_TIME) {
    return `${what} ${ms} is not a whole number of ms: round it (Math.floor), the offline log stores whole ms`
  }
  return `${what} ${ms} is outside the UTC years 0000-9999 the offline log stores (${MIN_STORABLE_TIME} <= ms < ${END_STORABLE_TIME}): check its unit (seconds, ms or µs?)`
}
