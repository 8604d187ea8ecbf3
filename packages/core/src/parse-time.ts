/**
 * The one parser of the times a user gives Skewless (event times at the pipeline's door, label
 * times and `asOf` instants of the join and the log), and the rule against times in seconds.
 *
 * Accepted: a number (ms since the epoch), a `bigint` (ms), a `Date`, a decimal string of ms, and an
 * ISO-8601 string with a `Z` or an offset (`2026-12-07T10:00:00Z`, `…+01:00`) or a date alone
 * (`2026-12-07`, UTC midnight). Refused (`NaN`): other date formats, whose meaning depends on the
 * engine, and an ISO date-time without an offset, which JS reads in the machine's time zone (two
 * machines would disagree). Digits below the ms make the result `floor(ms) + 0.5`, as the join reads
 * a µs/ns Arrow timestamp: it compares exactly against every whole-ms log time, and the pipeline's
 * door refuses it as not whole ms. Arrow timestamp columns are converted by their unit with exact
 * integer arithmetic (`internal.divInt64`).
 *
 * Seconds: a bare number (not a `Date`, ISO string or unit-carrying Arrow timestamp) in
 * `[SECONDS_LIKE_FROM, SECONDS_LIKE_END)` is refused unless the caller opts out (`allowEarlyTimes`).
 * As ms those are instants between 1970-01-12 and 1973-03-03, which real data rarely holds; as
 * seconds they are 2001-09-09 to the year 5138, which holds every Unix-seconds timestamp a system
 * writes today. Smaller numbers (the `100` or `60_000` of tests and examples) and every ms time
 * after 1973 pass. µs and ns since the epoch are already refused as outside the storable years.
 */

/** Smallest number the seconds rule refuses: 1e9 (as seconds 2001-09-09T01:46:40Z; as ms 1970-01-12). */
export const SECONDS_LIKE_FROM = 1e9
/** End (exclusive) of the numbers the seconds rule refuses: 1e11 (as ms 1973-03-03T09:46:40Z; as seconds the year 5138). */
export const SECONDS_LIKE_END = 1e11

const DECIMAL = /^[+-]?\d+(?:\.\d+)?$/
const ISO =
  /^([+-]\d{6}|\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/

/**
 * A user-given time as ms since the epoch, `NaN` when it is none of the accepted forms (see the
 * module's rules). Range, whole-ms and seconds checks are the caller's: `checkStorableTime`,
 * `secondsLikeMessage`.
 */
export function parseTime(raw: unknown): number {
  if (typeof raw === 'number') return raw
  if (raw instanceof Date) return raw.getTime()
  if (typeof raw === 'bigint') return Number(raw)
  if (typeof raw === 'string') {
    if (DECIMAL.test(raw)) return Number(raw)
    return parseIso(raw)
  }
  return Number.NaN
}

/** An ISO-8601 date or date-time with an offset as ms (see `parseTime`), else `NaN`. */
function parseIso(s: string): number {
  const m = ISO.exec(s)
  if (m === null) return Number.NaN
  const [, y, mo, d, h, mi, sec, frac, zone] = m
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  if (h !== undefined && zone === undefined) return Number.NaN
  const hour = h === undefined ? 0 : Number(h)
  const minute = mi === undefined ? 0 : Number(mi)
  const second = sec === undefined ? 0 : Number(sec)
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return Number.NaN
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  // A day past the month's end rolls over (2026-02-30 → March 2): refuse it.
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return Number.NaN
  let ms = date.getTime() + ((hour * 60 + minute) * 60 + second) * 1000
  if (frac !== undefined) {
    ms += Number(frac.slice(0, 3).padEnd(3, '0'))
    if (/[1-9]/.test(frac.slice(3))) ms += 0.5
  }
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1
    const digits = zone.slice(1).replace(':', '')
    const oh = Number(digits.slice(0, 2))
    const om = digits.length > 2 ? Number(digits.slice(2)) : 0
    if (oh > 23 || om > 59) return Number.NaN
    ms -= sign * (oh * 60 + om) * 60_000
  }
  return ms
}

/** Whether a bare number of ms looks like seconds since the epoch: `SECONDS_LIKE_FROM <= ms < SECONDS_LIKE_END`. */
export function looksLikeSeconds(ms: number): boolean {
  return ms >= SECONDS_LIKE_FROM && ms < SECONDS_LIKE_END
}

/**
 * `undefined` unless `raw` is a bare number (a number, bigint or decimal string, not a `Date` or an
 * ISO string) whose value `ms` looks like seconds (`looksLikeSeconds`); then a message naming
 * `what`, the value, and what to do.
 */
export function secondsLikeMessage(raw: unknown, ms: number, what = 'event time'): string | undefined {
  if (!looksLikeSeconds(ms)) return undefined
  if (raw instanceof Date) return undefined
  if (typeof raw === 'string' && !DECIMAL.test(raw)) return undefined
  return `${what} ${ms} ${secondsLikeReason(ms)}`
}

/** Why a number that looks like seconds is refused, and what to do: the tail of `secondsLikeMessage`. */
export function secondsLikeReason(ms: number): string {
  return `looks like seconds since the epoch (as ms it is ${new Date(ms).toISOString()}): Skewless times are ms, so multiply by 1000; if it really is an instant of 1970-1973, set allowEarlyTimes: true`
}
