/**
 * Re-batching for backfill: cut a stream of micro-batches into runs of consecutive events with the
 * same event time (an *instant*), whatever the source's chunking. A run never spans two instants,
 * and a run split across two source chunks is joined again before it is handed on, so the operator
 * sees exactly the batches a live pipeline would have seen if every event had arrived at its event
 * time: one per instant.
 */
import { type FeatureGroup, parseTime } from '@skewless/core'

/** Splits chunks into instants; the last run of a chunk is held back until the next one decides it. */
export class InstantRuns<E> {
  /** Distinct event-time extractors of the groups: with several, an instant ends when any time changes. */
  private readonly timeOf: ((e: E) => unknown)[]
  private readonly prev: Float64Array
  private pending: E[] = []

  constructor(groups: readonly FeatureGroup<E>[]) {
    this.timeOf = [...new Set(groups.map((g) => g.eventTime as (e: E) => unknown))]
    this.prev = new Float64Array(this.timeOf.length).fill(Number.NaN)
  }

  /**
   * Hand every complete run of `chunk` (with what was held back before it) to `run`, in order, and
   * hold back the chunk's last run.
   */
  push(chunk: readonly E[], run: (events: E[]) => void): void {
    let start = 0
    for (let i = 0; i < chunk.length; i++) {
      if (!this.startsInstant(chunk[i] as E)) continue
      if (i > start) run(this.take(chunk, start, i))
      else if (this.pending.length > 0) run(this.take(chunk, i, i))
      start = i
    }
    if (start < chunk.length) {
      if (this.pending.length === 0 && start === 0) this.pending = chunk.slice()
      else for (let i = start; i < chunk.length; i++) this.pending.push(chunk[i] as E)
    }
  }

  /** The source ended: hand on the run held back. */
  end(run: (events: E[]) => void): void {
    if (this.pending.length === 0) return
    const last = this.pending
    this.pending = []
    run(last)
  }

  /** The held-back run, then `chunk[from, to)`. */
  private take(chunk: readonly E[], from: number, to: number): E[] {
    if (this.pending.length === 0) return chunk.slice(from, to)
    const out = this.pending
    for (let i = from; i < to; i++) out.push(chunk[i] as E)
    this.pending = []
    return out
  }

  /**
   * Whether `e` starts a new instant (an event time differs from the previous event's). An event
   * whose time cannot be read stays in the current run: the operator dead-letters it there, so
   * where it lands does not depend on the chunking either.
   */
  private startsInstant(e: E): boolean {
    let changed = false
    for (let x = 0; x < this.timeOf.length; x++) {
      let t: number
      try {
        const raw = (this.timeOf[x] as (e: E) => unknown)(e)
        t = typeof raw === 'number' ? raw : parseTime(raw)
      } catch {
        continue
      }
      if (Number.isNaN(t) || t === this.prev[x]) continue
      this.prev[x] = t
      changed = true
    }
    return changed
  }
}
