import {
  ClosedError,
  type CommitMarks,
  type FeatureWrite,
  InvalidArgumentError,
  type MarkedAppendOptions,
} from '@skewless/core'
import { countDeadLetters, looksLikeSeconds, secondsLikeMessage } from '@skewless/core/adapter'
import { throwIfAborted } from '@skewless/core/internal'
import type { RecordBatch } from 'apache-arrow'
import { writesToRecordBatch } from './arrow-build.js'
import { type ResolvedScan, resolveScan } from './batch-filter.js'
import { normalizeFeatureTypes } from './feature-types.js'
import { checkMarks, copyMarks, MarksGuard, mergeMarks } from './marks-guard.js'
import { compareWrites, sameIdentity } from './order.js'
import { stateAtFromBatches } from './state-at.js'
import { logTelemetry } from './telemetry.js'
import type { OfflineLog, OfflineLogOptions, ScanOptions, StateAtOptions } from './types.js'
import { acceptBatch } from './validate.js'

function copyWrite(r: FeatureWrite): FeatureWrite {
  const w: FeatureWrite = {
    entity: r.entity,
    feature: r.feature,
    value: r.value,
    eventTime: r.eventTime,
    version: r.version,
    availableTime: r.availableTime,
    outcome: r.outcome,
  }
  if (r.tileStart !== undefined) w.tileStart = r.tileStart
  return w
}

function matches(r: FeatureWrite, s: ResolvedScan): boolean {
  if (s.entities && !s.entities.has(r.entity)) return false
  if (!s.includeStale && r.outcome === 'stale') return false
  const t = s.by === 'event' ? r.eventTime : r.availableTime
  return t >= s.from && t < s.to
}

/** Whether `r` repeats the identity of a row of `out` from `from` on (a write logged twice counts once; runs are sorted, so the earliest copy is kept). */
function isRepeat(out: readonly FeatureWrite[], from: number, r: FeatureWrite): boolean {
  for (let j = from; j < out.length; j++) if (sameIdentity(out[j] as FeatureWrite, r)) return true
  return false
}

/**
 * Check the instant given to `stateAt` (or `materialize`): a number of ms, and unless
 * `allowEarlyTimes`, not one that looks like seconds (core's rule, as at the pipeline's door).
 */
export function checkInstant(t: number, allowEarlyTimes = false): void {
  if (typeof t !== 'number' || Number.isNaN(t)) {
    throw new InvalidArgumentError(
      `offline-log stateAt: t must be a number of ms since epoch, got ${String(t)}`,
    )
  }
  if (!allowEarlyTimes && looksLikeSeconds(t)) {
    throw new InvalidArgumentError(`offline-log stateAt: ${secondsLikeMessage(t, t, 't')}`)
  }
}

/**
 * An in-memory `OfflineLog`, for unit tests and small programs. Each `append` becomes one sorted run
 * per feature (sorted by entity, eventTime, version), and `scan` yields one `RecordBatch` per run, so
 * `capabilities.sortedSegments` holds. Not durable. Records are copied on the way in and out.
 */
export function memoryLog(options: OfflineLogOptions): OfflineLog {
  const featureTypes = normalizeFeatureTypes(options?.features)
  // Counted on the way to the output: metrics() reports them, and the pipeline sums them up.
  const dead = countDeadLetters(options.deadLetters)
  const deadLetters = dead.sink
  const runs = new Map<string, FeatureWrite[][]>()
  for (const f of Object.keys(featureTypes)) runs.set(f, [])
  const pending = new Set<Promise<void>>()
  const guard = new MarksGuard()
  const telemetry = logTelemetry('memory', options)
  let marks: CommitMarks = {}
  /** Appends apply one after another, in call order: marks then cover every batch appended before. */
  let tail: Promise<void> = Promise.resolve()
  let closed = false

  async function doAppend(batch: readonly FeatureWrite[]): Promise<void> {
    const started = performance.now()
    const good = await acceptBatch(batch, featureTypes, deadLetters)
    const byFeature = new Map<string, FeatureWrite[]>()
    for (let i = 0; i < good.length; i++) {
      const r = good[i] as FeatureWrite
      let g = byFeature.get(r.feature)
      if (g === undefined) {
        g = []
        byFeature.set(r.feature, g)
      }
      g.push(copyWrite(r))
    }
    for (const [f, g] of byFeature) (runs.get(f) as FeatureWrite[][]).push(g.sort(compareWrites))
    telemetry.commit(good.length, 0, performance.now() - started)
  }

  function enqueue(n: number, run: () => Promise<void>): Promise<void> {
    const p = tail.then(run)
    tail = p.catch(() => guard.fail(n))
    pending.add(p)
    const done = () => pending.delete(p)
    p.then(done, done)
    return p
  }

  function append(batch: readonly FeatureWrite[]): Promise<void> {
    if (closed) return Promise.reject(new ClosedError('memoryLog', 'offline-log'))
    if (!Array.isArray(batch)) {
      return Promise.reject(
        new InvalidArgumentError('offline-log append: batch must be an array of FeatureWrite'),
      )
    }
    // The records are read after an await; the caller may reuse its array once append returns.
    const copy = batch.slice()
    return enqueue(guard.begin(), () => doAppend(copy))
  }

  function appendMarked(batch: readonly FeatureWrite[], options: MarkedAppendOptions): Promise<void> {
    if (closed) return Promise.reject(new ClosedError('memoryLog', 'offline-log'))
    let update: CommitMarks
    try {
      if (!Array.isArray(batch)) {
        throw new InvalidArgumentError('offline-log appendMarked: batch must be an array of FeatureWrite')
      }
      update = checkMarks(options, 'offline-log')
    } catch (e) {
      return Promise.reject(e)
    }
    const copy = batch.slice()
    const ticket = guard.beginMarked()
    return enqueue(ticket.n, async () => {
      guard.check(ticket)
      // Validated before anything is stored: the records and the marks apply together or not at all.
      const good = await acceptBatch(copy, featureTypes, deadLetters)
      await doAppend(good)
      marks = mergeMarks(marks, update)
    })
  }

  async function* selectRuns(s: ResolvedScan): AsyncGenerator<FeatureWrite[]> {
    for (const f of s.features) {
      for (const run of runs.get(f) ?? []) {
        const out: FeatureWrite[] = []
        let runStart = 0
        for (let i = 0; i < run.length; i++) {
          const r = run[i] as FeatureWrite
          if (!matches(r, s)) continue
          const prev = out[out.length - 1]
          if (
            prev === undefined ||
            prev.eventTime !== r.eventTime ||
            prev.version !== r.version ||
            prev.entity !== r.entity
          ) {
            runStart = out.length
          } else if (isRepeat(out, runStart, r)) continue
          out.push(r)
        }
        if (out.length > 0) yield out
      }
    }
  }

  async function* scan(o: ScanOptions): AsyncGenerator<RecordBatch> {
    // Reading a closed log is a mistake to report, not an empty or stale answer.
    if (closed) throw new ClosedError('memoryLog', 'offline-log')
    const s = resolveScan(o, featureTypes)
    throwIfAborted(o.signal, 'memoryLog scan')
    for await (const rows of selectRuns(s)) {
      throwIfAborted(o.signal, 'memoryLog scan')
      yield writesToRecordBatch(rows, featureTypes)
    }
  }

  async function* scanRows(o: ScanOptions): AsyncGenerator<FeatureWrite[]> {
    const s = resolveScan(o, featureTypes, 'scanRows')
    throwIfAborted(o.signal, 'memoryLog scanRows')
    for await (const rows of selectRuns(s)) {
      throwIfAborted(o.signal, 'memoryLog scanRows')
      yield rows.map(copyWrite)
    }
  }

  async function stateAt(t: number, o: StateAtOptions): Promise<FeatureWrite[]> {
    checkInstant(t, o?.allowEarlyTimes === true)
    const by = o?.by ?? 'available'
    resolveScan({ ...o, by }, featureTypes, 'stateAt')
    const to = Math.floor(t) + 1
    const signal = o.signal
    return stateAtFromBatches(
      scan({
        features: o.features,
        entities: o.entities,
        by,
        to,
        ...(signal === undefined ? {} : { signal }),
      }),
      t,
      by,
    )
  }

  return {
    capabilities: Object.freeze({ durable: false, sortedSegments: true }),
    featureTypes,
    metrics: dead.counts,
    append,
    write: append,
    appendMarked,
    async readMarks() {
      guard.resync()
      // Marks of appends still running are not committed yet: report the last committed ones.
      return copyMarks(marks)
    },
    scan,
    scanRows,
    stateAt,
    async flush() {
      while (pending.size > 0) await Promise.allSettled([...pending])
    },
    async close() {
      if (closed) return
      while (pending.size > 0) await Promise.allSettled([...pending])
      closed = true
    },
  }
}
