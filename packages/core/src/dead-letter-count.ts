/**
 * Counting what an output of dead letters receives, per code, so a component can report its dead
 * letters in `metrics()` (the pipeline sums them into its own) without keeping them.
 */
import type { Sink } from './types.js'

/** Dead letters of one component. */
export interface DeadLetterCounts {
  /** Dead letters in all. */
  deadLetters: number
  /** Per reason, e.g. `{ 'invalid-value': 2 }`. */
  deadLettersByReason: Record<string, number>
  /** The same counts. @deprecated Read `deadLettersByReason` (the same counts; one name, reason, for the machine-readable reason). */
  deadLettersByCode: Record<string, number>
}

/**
 * Wrap a dead-letter output so that what it receives is counted per `reason`; `sink` is `undefined`
 * when `output` is (the component then has no output, and refuses or logs instead).
 */
export function countDeadLetters<T extends { reason: string }>(
  output: Sink<T> | undefined,
): { sink: Sink<T> | undefined; counts(): DeadLetterCounts } {
  let total = 0
  const byCode: Record<string, number> = {}
  const counts = (): DeadLetterCounts => ({
    deadLetters: total,
    deadLettersByReason: { ...byCode },
    deadLettersByCode: { ...byCode },
  })
  if (output === undefined) return { sink: undefined, counts }
  return {
    sink: {
      write(batch) {
        total += batch.length
        for (const d of batch) byCode[d.reason] = (byCode[d.reason] ?? 0) + 1
        return output.write(batch)
      },
      flush: () => output.flush(),
      close: () => output.close(),
    },
    counts,
  }
}
