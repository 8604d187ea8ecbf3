/**
 * Summaries of conditions that can repeat on every batch (retries, dead letters, late events): the
 * first occurrence of each kind is logged at once, later ones at most once per interval as one line
 * with the count since the previous line, whatever logger is given (a pino logger does not
 * rate-limit). No timer: what is held back is logged by the next occurrence after the interval, or
 * by `flush()` (a sink's close, the end of a run), so nothing keeps a process alive.
 */
import type { Logger } from './types.js'

/** One kind of condition, e.g. `dead-letter:serialization`. */
interface Tally {
  /** When its last line was logged (ms), -Infinity before the first. */
  at: number
  /** Occurrences since that line. */
  held: number
  /** Occurrences in all. */
  total: number
  fields: object
  msg: string
  level: 'warn' | 'error'
}

/** Logs counted summaries per kind; see the module comment. */
export interface ThrottledReporter {
  /** `n` more occurrences of `kind`; `fields` and `msg` describe the latest (a count is added). */
  note(kind: string, n: number, fields: object, msg: string, level?: 'warn' | 'error'): void
  /** Log every kind with occurrences not logged yet. */
  flush(): void
}

/**
 * A reporter over `logger`.
 * @param intervalMs at most one line per kind per this many ms. @default 10000
 */
export function throttledReporter(
  logger: Logger,
  intervalMs = 10_000,
  now: () => number = Date.now,
): ThrottledReporter {
  const kinds = new Map<string, Tally>()
  const emit = (t: Tally, at: number) => {
    logger[t.level]({ ...t.fields, count: t.held, total: t.total }, t.msg)
    t.at = at
    t.held = 0
  }
  return {
    note(kind, n, fields, msg, level = 'warn') {
      if (!(n > 0)) return
      let t = kinds.get(kind)
      if (t === undefined) {
        t = { at: Number.NEGATIVE_INFINITY, held: 0, total: 0, fields, msg, level }
        kinds.set(kind, t)
      }
      t.held += n
      t.total += n
      t.fields = fields
      t.msg = msg
      const at = now()
      if (at - t.at >= intervalMs) emit(t, at)
    },
    flush() {
      const at = now()
      for (const t of kinds.values()) if (t.held > 0) emit(t, at)
    },
  }
}
