/**
 * The one rule for entity keys, applied where keys enter (the pipeline's door) and where they are
 * looked up (the online reader), so a key written as `42` is found by a read of `42` or `'42'`.
 */
import { InvalidArgumentError } from './errors.js'

/**
 * The stored form of an entity key: a non-empty string as is; a finite number or a bigint as its
 * decimal `String` (`42` → `'42'`, `42n` → `'42'`); anything else (`null`, `''`, `NaN`, objects,
 * booleans) is `undefined`, not a key. Strings are never trimmed nor case-folded: `'007'` stays
 * `'007'`, distinct from `7`.
 */
export function entityKey(raw: unknown): string | undefined {
  if (typeof raw === 'string') return raw.length > 0 ? raw : undefined
  if ((typeof raw === 'number' && Number.isFinite(raw)) || typeof raw === 'bigint') return String(raw)
  return undefined
}

/**
 * `entityKey(raw)`, or an `InvalidArgumentError` that names `what` and the rule.
 * @throws InvalidArgumentError when `raw` is not a key.
 */
export function toEntityKey(raw: unknown, what: string): string {
  const key = entityKey(raw)
  if (key === undefined) {
    throw new InvalidArgumentError(
      `${what}: entity key must be a non-empty string, a finite number or a bigint (numbers are keyed by String(n)), got ${
        typeof raw === 'string'
          ? "''"
          : typeof raw === 'number'
            ? String(raw)
            : raw === null
              ? 'null'
              : typeof raw
      }`,
    )
  }
  return key
}
