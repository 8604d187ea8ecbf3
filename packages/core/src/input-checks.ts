/** Messages of the input checks shared by the operator and the aggregators (internal). */

/** The message of an error of any kind, for a dead letter's reason. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message
  try {
    return String(err)
  } catch {
    return typeof err
  }
}

/**
 * `undefined` when `v` is a safe integer, else why an int64 sum, min or max refuses it. Checked
 * at the pipeline's door: a fraction summed into an int64 feature would otherwise be refused by
 * the store or the log long after, losing the whole value.
 */
export function intInputMessage(v: unknown): string | undefined {
  if (Number.isSafeInteger(v)) return undefined
  return `the feature is int64, so each value must be a safe integer, got ${String(v)}; round it in the value extractor or declare valueType 'double'`
}
