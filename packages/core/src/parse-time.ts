/** Event time from a `Date`, an ISO-8601 string or a numeric string; `NaN` when unparsable. */
export function parseTime(raw: unknown): number {
  if (raw instanceof Date) return raw.getTime()
  if (typeof raw === 'string') {
    if (raw.length === 0) return Number.NaN
    const n = Number(raw)
    if (Number.isFinite(n)) return n
    return Date.parse(raw)
  }
  if (typeof raw === 'bigint') return Number(raw)
  return Number.NaN
}
