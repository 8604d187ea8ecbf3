/** Parsers of option values: a bad value is a usage error (exit 2) that names the option and the fix. */
import { toMs } from '@skewless/core'
import { InvalidArgumentError } from 'commander'

/** A duration such as '1h', '30m', '90s' (or ms). */
export function durationArg(v: string): string {
  try {
    if (toMs(/^\d+(\.\d+)?$/.test(v) ? Number(v) : v) <= 0) throw new Error('zero')
  } catch {
    throw new InvalidArgumentError(`cli: "${v}" is not a positive duration; write e.g. 1h, 30m, 90s`)
  }
  return v
}

/** An integer >= `min`. */
export function intArg(min: number): (v: string) => number {
  return (v) => {
    const n = Number(v)
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`cli: "${v}" is not an integer >= ${min}`)
    return n
  }
}

/** A comma-separated list of names. */
export function listArg(v: string): string[] {
  const names = v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
  if (names.length === 0)
    throw new InvalidArgumentError('cli: expected a comma-separated list of feature names')
  return names
}

/** An instant: ISO-8601 (e.g. 2026-11-02 or 2026-11-02T12:00:00Z) or ms since epoch. */
export function instantArg(v: string): number {
  const n = /^-?\d+$/.test(v) ? Number(v) : Date.parse(v)
  if (!Number.isFinite(n))
    throw new InvalidArgumentError(
      `cli: "${v}" is not an instant; write an ISO date such as 2026-11-02 or ms since epoch`,
    )
  return n
}

/** `feature=duration`, repeatable: accumulates into a record. */
export function ttlArg(v: string, previous: Record<string, string> | undefined): Record<string, string> {
  const m = /^([^=]+)=(.+)$/.exec(v)
  if (!m) throw new InvalidArgumentError(`cli: "${v}" is not feature=duration, e.g. last_page_10m=10m`)
  return { ...previous, [m[1] as string]: durationArg(m[2] as string) }
}

/** 'available' or 'event'. */
export function basisArg(v: string): 'available' | 'event' {
  if (v !== 'available' && v !== 'event')
    throw new InvalidArgumentError(`cli: "${v}" is not available or event`)
  return v
}
