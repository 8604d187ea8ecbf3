import { type CommitMarks, InvalidArgumentError } from '@skewless/core'
import { MarksRefusedError } from './errors.js'

/** Failures remembered (they are rare; a log that keeps failing is refused marks anyway). */
const MAX_FAILURES = 1024

/** What `MarksGuard.beginMarked` hands out: the append's number and the last resync before it. */
export interface MarkedTicket {
  n: number
  since: number
}

/**
 * Marks must never claim records the log does not hold: a commit carrying marks is valid only if
 * every append made before it is in the log. Appends are numbered at their call; a failed one is
 * remembered until the caller calls `readMarks()` (a resync: it resumes from the durable marks), and
 * a marked append numbered after that failure and before the resync is refused.
 */
export class MarksGuard {
  private seq = 0
  private resyncedAt = 0
  private readonly failures: number[] = []

  /** Number an unmarked append, at its call. */
  begin(): number {
    return ++this.seq
  }

  /** Number a marked append, at its call. */
  beginMarked(): MarkedTicket {
    return { n: ++this.seq, since: this.resyncedAt }
  }

  /** The append numbered `n` failed: its records are not in the log. */
  fail(n: number): void {
    this.failures.push(n)
    if (this.failures.length > MAX_FAILURES) this.failures.splice(0, this.failures.length - MAX_FAILURES)
  }

  /** The caller re-read the marks: failures of appends made so far are acknowledged. */
  resync(): void {
    this.resyncedAt = this.seq
  }

  /** Throw `MarksRefusedError` when an append made before `t` (and after its resync) failed. */
  check(t: MarkedTicket): void {
    for (const f of this.failures) if (f > t.since && f < t.n) throw new MarksRefusedError()
  }
}

/** Validate `appendMarked`'s options; returns a deep copy of the marks (plain JSON). */
export function checkMarks(options: unknown, what: string): CommitMarks {
  const out: CommitMarks = {}
  for (const [key, text] of Object.entries(serializeMarks(options, what))) {
    ;(out as Record<string, unknown>)[key] = JSON.parse(text)
  }
  return out
}

/**
 * Validate `appendMarked`'s options; returns each mark serialized once (JSON text), for a log that
 * writes marks as JSON: it keeps the text (a copy the caller cannot change) and never re-serializes
 * nor parses a large mark (a pipeline checkpoint holds the whole operator state) on the commit path.
 */
export function serializeMarks(options: unknown, what: string): { checkpoint?: string; changelog?: string } {
  const marks = (options as { marks?: unknown } | null | undefined)?.marks
  if (marks === null || typeof marks !== 'object' || Array.isArray(marks)) {
    throw new InvalidArgumentError(
      `${what} appendMarked: options.marks must be an object { checkpoint?, changelog? }`,
    )
  }
  const out: { checkpoint?: string; changelog?: string } = {}
  for (const key of Object.keys(marks)) {
    if (key !== 'checkpoint' && key !== 'changelog') {
      throw new InvalidArgumentError(
        `${what} appendMarked: unknown mark "${key}"; use checkpoint or changelog`,
      )
    }
    const v = (marks as Record<string, unknown>)[key]
    if (v === undefined) continue
    let text: string | undefined
    try {
      text = JSON.stringify(v)
    } catch (e) {
      throw new InvalidArgumentError(`${what} appendMarked: mark "${key}" is not plain JSON: ${String(e)}`, {
        cause: e,
      })
    }
    if (text === undefined)
      throw new InvalidArgumentError(`${what} appendMarked: mark "${key}" is not plain JSON`)
    out[key] = text
  }
  return out
}

/** Marks after a commit carrying `update`: its keys replace, absent keys keep their value. */
export function mergeMarks(current: CommitMarks, update: CommitMarks): CommitMarks {
  const out: CommitMarks = { ...current }
  if (update.checkpoint !== undefined) out.checkpoint = update.checkpoint
  if (update.changelog !== undefined) out.changelog = update.changelog
  return out
}

/** A deep copy (marks handed out must not alias the log's). */
export function copyMarks(m: CommitMarks): CommitMarks {
  return JSON.parse(JSON.stringify(m)) as CommitMarks
}
