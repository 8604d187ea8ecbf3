import { InvalidDefinitionError } from './errors.js'
import type { Duration } from './types.js'

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y

/**
 * Parse a duration (`'5m'`, `'1h30m'`, `'250ms'` or a number of ms) to milliseconds.
 * @throws InvalidDefinitionError when the text is not a duration or the number is negative or not finite.
 */
export function toMs(duration: Duration, what = 'duration'): number {
  if (typeof duration === 'number') {
    if (!Number.isFinite(duration) || duration < 0) {
      throw new InvalidDefinitionError(`${what} must be a finite number of ms >= 0, got ${duration}`)
    }
    return duration
  }
  if (typeof duration !== 'string') {
    throw new InvalidDefinitionError(
      `${what} must be a number of ms or a string like '5m', got ${typeof duration}`,
    )
  }
  const text = duration.trim()
  let total = 0
  PART.lastIndex = 0
  let pos = 0
  while (pos < text.length) {
    PART.lastIndex = pos
    const m = PART.exec(text)
    if (!m) break
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number)
    pos = PART.lastIndex
  }
  if (text.length === 0 || pos !== text.length) {
    throw new InvalidDefinitionError(
      `${what} '${duration}' is not a duration: write ms as a number or a string like '500ms', '10s', '5m', '1h30m', '7d'`,
    )
  }
  return total
}

/** A duration option resolved to ms, with the name the caller used (for messages). */
export interface ResolvedDuration {
  /** The value in ms; a number is passed through unchecked (the caller's range check names it), `undefined` when unset. */
  ms: number | undefined
  /** `name`, or `legacyName` when the value came from the deprecated `*Ms` option. */
  name: string
}

/**
 * The duration rule for options (docs/decisions/lifecycle.md): an option takes a `Duration` under
 * its plain name (`linger: '50ms'`); the older `*Ms` name (`lingerMs: 50`) still works, deprecated.
 * Giving both is an `InvalidDefinitionError`; a string is parsed by `toMs`.
 */
export function durationOption(
  who: string,
  name: string,
  value: Duration | undefined,
  legacyName: string,
  legacy: number | undefined,
): ResolvedDuration {
  if (value !== undefined && legacy !== undefined) {
    throw new InvalidDefinitionError(
      `${who}: give ${name} or ${legacyName} (its deprecated form in ms), not both`,
    )
  }
  if (value === undefined) return { ms: legacy, name: legacyName }
  return { ms: typeof value === 'string' ? toMs(value, `${who}: ${name}`) : value, name }
}
