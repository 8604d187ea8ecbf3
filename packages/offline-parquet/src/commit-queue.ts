import type { CommitMarks, FeatureWrite } from '@skewless/core'
import type { MarkedTicket, MarksGuard } from '@skewless/offline-log/adapter'
import { type CommitExtras, commitRecords, type SegmentWriter } from './segment-writer.js'
import type { LogTelemetry } from './telemetry.js'
import type { ParquetLogStats } from './types.js'

interface Pending {
  records: readonly FeatureWrite[]
  /** Number of the append (`MarksGuard`). */
  n: number
  /** Set on a marked append: its marks and guard ticket. A marked append ends its group. */
  marked?: { marks: CommitMarks; ticket: MarkedTicket }
  resolve: () => void
  reject: (e: unknown) => void
}

/** Settings of the group-commit queue (see `ParquetLogOptions`). */
export interface CommitQueueOptions {
  rollRows: number
  rollAgeMs: number
  maxCommitRows: number
}

/**
 * Group commit: appends wait in a queue; one loop takes everything that arrived (up to
 * `maxCommitRows`, whole appends only) and commits it as one set of files, then resolves those
 * appends. Up to two commits overlap: while the workers encode and fsync commit N, this thread
 * prepares commit N+1 (a commit starts preparing only after the previous one has posted all its
 * files, since they share scratch buffers). Appends of different commits may resolve out of order.
 */
export class CommitQueue {
  private readonly queue: Pending[] = []
  private running: Promise<void> | undefined
  private lastDone: Promise<void> = Promise.resolve()
  /** Rows waiting for a commit. */
  queuedRows = 0
  /** Resolves when the most recently started commit settles (what `write()` backpressure waits on). */
  inflight: Promise<void> = Promise.resolve()

  constructor(
    private readonly writer: SegmentWriter,
    private readonly stats: ParquetLogStats,
    private readonly options: CommitQueueOptions,
    private readonly guard: MarksGuard,
    private readonly telemetry?: LogTelemetry,
  ) {}

  /**
   * Queue records (already validated); resolves once they are committed. `n` numbers the append for
   * the marks guard; with `marked`, the commit also records those marks (and is refused when an
   * earlier append failed, see `MarksGuard`).
   */
  enqueue(
    records: readonly FeatureWrite[],
    n: number,
    marked?: { marks: CommitMarks; ticket: MarkedTicket },
  ): Promise<void> {
    const p = new Promise<void>((resolve, reject) => {
      this.queue.push({ records, n, ...(marked ? { marked } : {}), resolve, reject })
    })
    this.queuedRows += records.length
    if (!this.running) this.running = this.loop()
    this.lastDone = p.then(
      () => undefined,
      () => undefined,
    )
    return p
  }

  /** Resolves once everything enqueued so far has been committed (or has failed). */
  async drained(): Promise<void> {
    await this.lastDone
    if (this.running) await this.running
  }

  private take(): { group: Pending[]; rows: number; records: FeatureWrite[] } {
    const q = this.queue
    let take = 0
    let rows = 0
    while (
      take < q.length &&
      (take === 0 || rows + (q[take] as Pending).records.length <= this.options.maxCommitRows)
    ) {
      rows += (q[take] as Pending).records.length
      take++
      // Marks end a commit: a commit records at most one append's marks, after all its records.
      if ((q[take - 1] as Pending).marked) break
    }
    const group = q.splice(0, take)
    this.queuedRows -= rows
    const records: FeatureWrite[] = group.length === 1 ? (group[0]?.records as FeatureWrite[]) : []
    if (group.length > 1) {
      for (const p of group)
        for (let i = 0; i < p.records.length; i++) records.push(p.records[i] as FeatureWrite)
    }
    return { group, rows, records }
  }

  private async loop(): Promise<void> {
    await new Promise<void>((r) => setImmediate(r)) // let the synchronous appends of this tick join
    const { rollAgeMs, rollRows } = this.options
    const open: Promise<void>[] = []
    while (this.queue.length > 0) {
      if (rollAgeMs > 0 && this.queuedRows < rollRows) await new Promise((r) => setTimeout(r, rollAgeMs))
      const { group, rows, records } = this.take()
      let settle!: () => void
      this.inflight = new Promise<void>((r) => {
        settle = r
      })
      let posted!: () => void
      const postedP = new Promise<void>((r) => {
        posted = r
      })
      const marked = group[group.length - 1]?.marked
      const guard = this.guard
      const extras: CommitExtras = {
        ...(marked ? { marks: marked.marks, beforeVersion: () => guard.check(marked.ticket) } : {}),
        onFailed: (committed) => {
          // A commit whose version was written is in the log (rolled forward): not a loss.
          if (!committed) for (const p of group) guard.fail(p.n)
        },
      }
      const started = performance.now()
      const commit = commitRecords(this.writer, records, posted, undefined, extras).then(
        (res) => {
          this.telemetry?.commit(rows, res.bytes, performance.now() - started)
          this.stats.commits++
          this.stats.files += res.files
          this.stats.rows += rows
          this.stats.bytes += res.bytes
          for (const p of group) p.resolve()
        },
        (e) => {
          for (const p of group) p.reject(e)
        },
      )
      const tracked: Promise<void> = commit.finally(() => {
        settle()
        open.splice(open.indexOf(tracked), 1)
      })
      open.push(tracked)
      await Promise.race([postedP, commit])
      if (open.length >= 2) await Promise.race(open)
    }
    await Promise.all(open)
    this.running = undefined
    if (this.queue.length > 0) this.running = this.loop()
    // Idle: release the commit buffers (tens of MB for a large commit) until the next burst.
    else this.writer.scratch.clear()
  }
}
