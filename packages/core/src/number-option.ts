/**
 * The one check of numeric options, shared by every package (the online sink and its memory store,
 * the Redis store, the Parquet log): a value outside its range is an `InvalidDefinitionError` that
 * names the option, the range and what was given, never silently rounded or clamped. Internal:
 * exported under `internal` from the package's entry.
 */
import { InvalidDefinitionError } from './errors.js'

/** The longest delay `setTimeout` honours: a longer one fires after 1 ms instead. */
export const MAX_TIMER_MS = 2_147_483_647

/** What a numeric option accepts. */
export interface NumberRule {
  /** Smallest allowed value (inclusive; exclusive with `aboveMin`). */
  min: number
  /** `min` itself is refused: the value must be greater (e.g. a lease > 0). */
  aboveMin?: boolean
  /** Largest allowed value (inclusive). @default any finite number */
  max?: number
  /** Whole numbers only. */
  integer?: boolean
  /** A duration, called "a number of ms" in the message. */
  ms?: boolean
  /** `Infinity` is allowed because it means something (e.g. retry forever). */
  infinity?: boolean
  /** What to do instead, appended to the message. */
  hint?: string
}

/**
 * `v` when it satisfies `rule`. Non-finite values are refused unless `rule.infinity`: they are
 * almost always a bug upstream, and a timer given one fires at once.
 * @throws InvalidDefinitionError naming the option, the allowed range and what was given.
 */
export function checkNumber(who: string, name: string, v: unknown, rule: NumberRule): number {
  if (
    typeof v === 'number' &&
    (Number.isFinite(v) || (v === Number.POSITIVE_INFINITY && rule.infinity === true)) &&
    (rule.aboveMin === true ? v > rule.min : v >= rule.min) &&
    (rule.max === undefined || v <= rule.max) &&
    (rule.integer !== true || !Number.isFinite(v) || Number.isInteger(v))
  ) {
    return v
  }
  const infinite = typeof v === 'number' && (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY)
  const kind = `${infinite && !rule.infinity ? 'finite ' : ''}${rule.integer ? 'whole number' : rule.ms ? 'number of ms' : 'number'}`
  const max =
    rule.max === undefined
      ? ''
      : ` and at most ${rule.max}${rule.max === MAX_TIMER_MS ? ' (the longest a timer waits)' : ''}`
  const inf = rule.infinity ? ', or Infinity' : ''
  const got = typeof v === 'number' ? String(v) : `${typeof v} ${JSON.stringify(v)}`
  throw new InvalidDefinitionError(
    `${who}: ${name} must be a ${kind} ${rule.aboveMin === true ? '>' : '>='} ${rule.min}${max}${inf}, got ${got}${rule.hint ? `; ${rule.hint}` : ''}`,
  )
}

/** `def` when `v` is `undefined`, else `checkNumber(who, name, v, rule)`. */
export function numberOption(who: string, name: string, v: unknown, def: number, rule: NumberRule): number {
  return v === undefined ? def : checkNumber(who, name, v, rule)
}
