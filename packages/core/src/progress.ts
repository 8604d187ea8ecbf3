/**
 * Progress of long operations (backfill, materialize, compact, a large as-of join): an `onProgress`
 * callback called at most every `intervalMs` while the work goes, and once at the end with
 * `done === total`. Reported per batch or partition by the operation, never per row.
 */

/** One progress report. */
export interface Progress {
  /** Units done so far; never decreases within a phase. */
  done: number
  /** Units in all, when known; the final report of a phase has `done === total`. */
  total?: number
  /** What is counted, e.g. `'event'`, `'record'`, `'partition'`. */
  unit: string
  /** The step of the operation, e.g. `'replay'`, `'scan'`, `'compact'`. */
  phase: string
}

/** Receives progress reports. Must not throw (an error thrown here fails the operation). */
export type ProgressCallback = (progress: Progress) => void

/** Option of every operation that reports progress. */
export interface ProgressOptions {
  /** Called with progress while the operation goes (throttled), and once at the end. */
  onProgress?: ProgressCallback
}

/** Counts one phase of an operation and reports it, throttled. */
export interface ProgressReporter {
  /** `n` more units are done. */
  add(n: number): void
  /** The total became known (or changed). */
  setTotal(total: number): void
  /** The phase is over: report `done` (as `total` too, when the total was unknown or not reached). */
  finish(): void
}

const NOOP: ProgressReporter = { add() {}, setTotal() {}, finish() {} }

/**
 * A reporter for one phase. Without a callback it does nothing. Reports at most every
 * `intervalMs` (real time), the first report at once.
 */
export function progressReporter(
  onProgress: ProgressCallback | undefined,
  phase: string,
  unit: string,
  total?: number,
  intervalMs = 200,
): ProgressReporter {
  if (onProgress === undefined) return NOOP
  let done = 0
  let t = total
  let last = Number.NEGATIVE_INFINITY
  const report = () => {
    last = performance.now()
    onProgress(t === undefined ? { done, unit, phase } : { done, total: t, unit, phase })
  }
  report()
  return {
    add(n) {
      done += n
      if (performance.now() - last >= intervalMs) report()
    },
    setTotal(n) {
      t = n
    },
    finish() {
      if (t === undefined || t < done) t = done
      done = t
      report()
    },
  }
}
