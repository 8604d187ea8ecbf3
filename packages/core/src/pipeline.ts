/**
 * A pipeline: sources → window operator → sinks, run to completion or until aborted.
 * Backpressure: a sink's `write` may return a promise; the pipeline awaits it before reading
 * more input, so memory stays bounded when a sink is slow.
 */
import { type AbortOptions, abortedError, raceAbort, throwIfAborted } from './abort.js'
import type { CheckpointData } from './checkpoint.js'
import type {
  CheckpointStore,
  CommittedCheckpoint,
  PositionedBatch,
  ResumableSource,
  SourcePosition,
} from './checkpoint-types.js'
import { systemClock } from './clock.js'
import type { FeatureGroup } from './define-features.js'
import { durationOption, toMs } from './duration.js'
import { ClosedError, InvalidDefinitionError } from './errors.js'
import { throttledReporter } from './log-summary.js'
import { resolveLogger } from './logger.js'
import { createOperator } from './operator.js'
import { type PipelineTelemetry, pipelineTelemetry } from './pipeline-telemetry.js'
import { isResumableSource } from './resumable-source.js'
import { type Source, toBatches } from './sources.js'
import type { TelemetryOptions } from './telemetry.js'
import type {
  Clock,
  DeadLetter,
  Duration,
  FeatureInfo,
  FeatureUpdate,
  LateEvent,
  Logger,
  PipelineMetrics,
  Sink,
  WatermarkOptions,
} from './types.js'

/** Options of `createPipeline` (`meterProvider`, `metricAttributes`: OpenTelemetry metrics, docs/decisions/telemetry.md). */
export interface PipelineOptions<E> extends TelemetryOptions {
  /**
   * The event source. Give `source` or `sources`. A `ResumableSource` (a replayable stream read from a
   * position, e.g. `arraySource`, `offsetSource`, a JetStream partition) is required with `checkpoints`.
   */
  source?: Source<E> | ResumableSource<E>
  /** Several sources (e.g. partitions), each with its own watermark; the pipeline's is their minimum. */
  sources?: readonly (Source<E> | ResumableSource<E>)[]
  /** The feature groups computed in one pass. */
  features: FeatureGroup<E> | readonly FeatureGroup<E>[]
  /** Where feature updates go (e.g. the online sink, or `collectingSink()` in tests). */
  sink: Sink<FeatureUpdate>
  /**
   * Where late events go. They are always counted in `metrics.lateEvents`; without this output a
   * rate-limited warning with the count goes to `logger`.
   */
  lateEvents?: Sink<LateEvent<E>>
  /**
   * Where bad events go. They are always counted in `metrics.deadLetters` (by reason in
   * `metrics.deadLettersByReason`); without this output a rate-limited warning per reason goes to `logger`.
   */
  deadLetters?: Sink<DeadLetter<E>>
  /** Watermark, lateness and idleness. */
  watermark?: WatermarkOptions
  /** Processing-time clock (idleness). @default systemClock */
  clock?: Clock
  /** Stops the pipeline: `run()` then flushes what was processed and resolves with `ended: 'aborted'`. */
  signal?: AbortSignal
  /** Throw on the first bad event instead of dead-lettering it. @default false */
  failFast?: boolean
  /** Largest micro-batch. @default 4096 */
  batchSize?: number
  /** For async sources yielding single events: how long a partial batch may wait from its first event (real time). @default '20ms' */
  linger?: Duration
  /** @deprecated Use `linger` (a `Duration`: `20` or `'20ms'`). */
  lingerMs?: number
  /** Restore operator state from this checkpoint before reading (resume the sources after the events it covers). */
  checkpoint?: CheckpointData | CommittedCheckpoint
  /**
   * Where checkpoints are committed and resumed from: the offline log, through a
   * `changelogCommitter` (@skewless/online-sink). With it, `run()` first resumes from the latest
   * committed checkpoint (operator state and every source's position), `checkpoint()` commits, and
   * a checkpoint is taken every `checkpointInterval` and when the run ends. Every source must be
   * a `ResumableSource`. See docs/consistency.md for the guarantee.
   */
  checkpoints?: CheckpointStore
  /** With `checkpoints`: how often a checkpoint is committed while the run goes. @default '10s' */
  checkpointInterval?: Duration
  /**
   * Where the watermark goes when every source has ended: `'max-event-time'` closes the
   * out-of-orderness bound (decays up to the last event are emitted), a number advances it to
   * that instant (`Infinity` empties every window), `'none'` leaves it. @default 'max-event-time'
   */
  drainTo?: 'max-event-time' | 'none' | number
  /** How often (real time) idleness is checked while waiting for input. @default min(idleTimeout / 4, 1s) */
  tickInterval?: Duration
  /** @deprecated Use `tickInterval` (a `Duration`). */
  tickIntervalMs?: number
  /**
   * Where warnings go (a pino logger fits): history on the live path, and summaries (the first at
   * once, then at most one line per reason every 10 s, with counts) of dead letters and late events
   * that have no output. `false` or `null`: silent.
   * @default warnings to stderr, each message at most once a minute
   */
  logger?: Logger | false | null
  /**
   * Events dated more than this behind `clock` are history: counted in `metrics.historicEvents`,
   * and the first batch holding some logs one warning pointing to `backfill()` (a live pipeline
   * stamps values available now, so a training set over replayed history reads nothing).
   * `Infinity` turns the check off. @default '1d'
   */
  historyWarningAge?: Duration
  /**
   * Accept event times given as bare numbers that look like seconds (1e9 <= t < 1e11, i.e. as ms
   * instants of 1970-01-12 to 1973-03-03). Off, such an event is dead-lettered `invalid-time` with a
   * message to multiply by 1000: Unix seconds read as ms put every event in January 1970. `Date`s
   * and ISO strings are never in question. @default false
   */
  allowEarlyTimes?: boolean
}

/** How a run ended. */
export interface PipelineResult {
  /** `completed` when every source ended, `aborted` when the signal fired. */
  ended: 'completed' | 'aborted'
  /** Counters at the end of the run. */
  metrics: PipelineMetrics
}

/** A consistent checkpoint of a pipeline: see `Pipeline.checkpoint()`. */
export interface PipelineCheckpoint {
  /** The operator state; pass it as `checkpoint` to a pipeline defined the same way. */
  checkpoint: CheckpointData
  /** Position per resumable source name (what `checkpoints` committed). Empty without resumable sources. */
  positions: { [name: string]: SourcePosition }
  /**
   * Per source (in `sources` order), how many events this pipeline has processed from it: resume
   * source `i` right after them (plus wherever this pipeline's source started).
   */
  eventsPerSource: number[]
}

/**
 * `Pipeline.metrics`: call it for a snapshot of the counters (`pipeline.metrics()`). Reading a
 * counter straight off it (`pipeline.metrics.eventsIn`, a property before) still works.
 */
export interface PipelineMetricsAccessor extends Readonly<PipelineMetrics> {
  /** A snapshot of the counters so far. */
  (): PipelineMetrics
}

/** A runnable pipeline. */
export interface Pipeline {
  /**
   * Read every source to its end (or until aborted), flushing the sinks before resolving. Aborting
   * (`options.signal`, or the pipeline's own `signal`) is a graceful stop, not a failure: what was
   * processed is flushed and the result says `ended: 'aborted'`.
   */
  run(options?: AbortOptions): Promise<PipelineResult>
  /**
   * Flush every sink, one after the other (`signal` is passed to each).
   * @throws AbortedError when `signal` aborts first (the sinks keep what they hold; flush again).
   */
  flush(options?: AbortOptions): Promise<void>
  /**
   * Abort a running `run()`, wait for it, then close every sink (`signal` is passed to each: an
   * online sink then gives up on its store and dead-letters what it had not written).
   * @throws AbortedError when `signal` aborts first; the pipeline is closed all the same.
   */
  close(options?: AbortOptions): Promise<void>
  /**
   * A consistent checkpoint, safe to take while `run()` is going: at the next batch boundary (at
   * once when the sources are waiting for input) the run pauses, flushes every sink, so whatever
   * the checkpoint covers has reached them, and snapshots the operator with the number of events
   * it processed per source. Resuming from it re-emits nothing and loses nothing.
   * @throws ClosedError after `close()`; rejects with the sink's error when a flush fails;
   *   `AbortedError` when `signal` aborts before the run reached a batch boundary for it (no
   *   checkpoint is taken then) or while it commits (it may still complete in the background).
   */
  checkpoint(options?: AbortOptions): Promise<PipelineCheckpoint>
  /**
   * The operator state alone, without flushing the sinks: updates it covers may still be buffered
   * in a sink (an online sink's batches in flight). Prefer `checkpoint()` in a running pipeline.
   */
  snapshot(): CheckpointData
  /** Counters: `metrics()` is a snapshot (`metrics.eventsIn`, the old property form, is deprecated). */
  readonly metrics: PipelineMetricsAccessor
  /** Descriptions of every feature, for sinks, stores and logs. */
  readonly features: FeatureInfo[]
  /** The window operator's state, and manual watermarks (advanced use). */
  readonly operator: PipelineOperator
}

/** What a pipeline shows of its window operator (`Pipeline.operator`). */
export interface PipelineOperator {
  /** Current watermark (ms), `-Infinity` before the first event. */
  readonly watermark: number
  /** Greatest event time accepted from any source (ms), `-Infinity` before the first event. */
  readonly maxEventTime: number
  /** Number of entities with state, over all feature groups. */
  readonly keyCount: number
  /**
   * Advance the watermark to `t` (e.g. on idleness or at the end of a bounded input) and return the
   * updates this emits; they do not go to the pipeline's sink.
   */
  advanceWatermark(t: number): FeatureUpdate[]
}

/** Build a pipeline. Definitions are validated here (typed errors), before any event is read. */
export function createPipeline<Ev>(options: PipelineOptions<Ev>): Pipeline {
  const sources = options.sources ?? (options.source !== undefined ? [options.source] : [])
  if (sources.length === 0)
    throw new InvalidDefinitionError('core: createPipeline needs `source` or `sources`')
  if (!options.sink || typeof options.sink.write !== 'function') {
    throw new InvalidDefinitionError('core: createPipeline needs a `sink` with write/flush/close')
  }
  const groups = (
    Array.isArray(options.features) ? options.features : [options.features]
  ) as FeatureGroup<Ev>[]
  const op = createOperator(groups, {
    sources: sources.length,
    ...(options.watermark === undefined ? {} : { watermark: options.watermark }),
    ...(options.failFast === undefined ? {} : { failFast: options.failFast }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.allowEarlyTimes === undefined ? {} : { allowEarlyTimes: options.allowEarlyTimes }),
    historyAge: options.historyWarningAge ?? '1d',
  })
  const logger = resolveLogger(options.logger)
  const report = throttledReporter(logger)
  /** The pipeline's own dead letters per code. */
  const deadByCode: Record<string, number> = {}
  let historicEvents = 0
  const resumable = sources.map((src) => isResumableSource(src))
  const names = sources.map((src, i) => (resumable[i] ? (src as ResumableSource<Ev>).name : undefined))
  checkSourceNames(names, options.checkpoints !== undefined)
  // Position of the last processed batch, per resumable source.
  const positions: (SourcePosition | undefined)[] = sources.map(() => undefined)
  const restoreFrom = (data: CheckpointData | CommittedCheckpoint) => {
    if (isCommitted(data)) {
      op.restore(data.operator)
      names.forEach((name, i) => {
        if (name !== undefined) positions[i] = data.sources[name]
      })
    } else op.restore(data)
  }
  if (options.checkpoint) restoreFrom(options.checkpoint)
  // With a checkpoint store and no explicit checkpoint, the first run() resumes from the latest one.
  let resumed = options.checkpoint !== undefined || options.checkpoints === undefined
  const clock = options.clock ?? systemClock
  const checkpointEveryMs =
    options.checkpointInterval === undefined ? 10_000 : toMs(options.checkpointInterval)
  if (options.checkpoints !== undefined && !(checkpointEveryMs > 0)) {
    throw new InvalidDefinitionError(
      `core: checkpointInterval must be a duration > 0, got ${String(options.checkpointInterval)}`,
    )
  }
  const idleMs =
    options.watermark?.idleTimeout === undefined ? undefined : toMs(options.watermark.idleTimeout)
  const tickMs =
    durationOption(
      'createPipeline',
      'tickInterval',
      options.tickInterval,
      'tickIntervalMs',
      options.tickIntervalMs,
    ).ms ?? (idleMs === undefined ? undefined : Math.min(Math.max(idleMs / 4, 5), 1000))
  const lingerMs = durationOption('createPipeline', 'linger', options.linger, 'lingerMs', options.lingerMs).ms
  const batchOpts = {
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    ...(lingerMs === undefined ? {} : { lingerMs }),
  }
  let batches = 0
  /** Set once the pipeline object exists (its metrics are observed through it). */
  let telemetry: PipelineTelemetry | undefined
  let running: Promise<PipelineResult> | undefined
  let closed = false
  const stop = new AbortController()
  const sinks: Sink<unknown>[] = [options.sink as Sink<unknown>]
  if (options.lateEvents) sinks.push(options.lateEvents as Sink<unknown>)
  if (options.deadLetters) sinks.push(options.deadLetters as Sink<unknown>)

  const eventsPerSource = sources.map(() => 0)
  // checkpoint() requests waiting for a batch boundary, and the wake-up of a run waiting for input.
  let checkpointRequests: { resolve: (c: PipelineCheckpoint) => void; reject: (e: unknown) => void }[] = []
  let wakeRun: (() => void) | undefined

  const positionsByName = (): { [name: string]: SourcePosition } => {
    const out: { [name: string]: SourcePosition } = {}
    names.forEach((name, i) => {
      const p = positions[i]
      if (name !== undefined && p !== undefined) out[name] = p
    })
    return out
  }

  // Commits run one after another, behind the loop: the pause of the stream is the snapshot only.
  let commitChain: Promise<unknown> = Promise.resolve()
  let commitsInFlight = 0
  let nextCheckpointAt = Number.POSITIVE_INFINITY

  /**
   * Snapshot now, at a batch boundary; resolve once every sink acknowledged what the snapshot covers
   * (a flush barrier started now) and, with `checkpoints`, the log committed it.
   */
  function startCheckpoint(): Promise<PipelineCheckpoint> {
    const flushed = Promise.all(sinks.map((s) => s.flush()))
    // Awaited later (behind earlier commits); a failure before then is not an unhandled rejection.
    flushed.catch(() => undefined)
    const store = options.checkpoints
    if (store === undefined) {
      // Without a store, keep the old order: flush, then snapshot (nothing is written meanwhile).
      return flushed.then(() => {
        cpStats.checkpoints++
        return {
          checkpoint: op.snapshot(),
          eventsPerSource: eventsPerSource.slice(),
          positions: positionsByName(),
        }
      })
    }
    // The pause: a copy of the state at this batch boundary (one block per feature group). The
    // plain-data checkpoint is built from the copy behind the loop, while the stream goes on.
    const started = performance.now()
    const captured = op.capture()
    const perSource = eventsPerSource.slice()
    const sourcePositions = positionsByName()
    const takenAt = clock.now()
    const pauseMs = performance.now() - started
    cpStats.checkpointPauseMs = pauseMs
    nextCheckpointAt = clock.now() + checkpointEveryMs
    commitsInFlight++
    const done = commitChain.then(async () => {
      try {
        await flushed
        const result: PipelineCheckpoint = {
          checkpoint: captured.toData(),
          eventsPerSource: perSource,
          positions: sourcePositions,
        }
        const committed: CommittedCheckpoint = {
          format: 'skewless.checkpoint/1',
          operator: result.checkpoint,
          sources: result.positions,
          takenAt,
        }
        await store.commitCheckpoint(committed)
        cpStats.checkpoints++
        cpStats.checkpointCommitMs = performance.now() - started
        telemetry?.checkpoint(pauseMs, cpStats.checkpointCommitMs)
        return result
      } finally {
        commitsInFlight--
      }
    })
    commitChain = done.catch(() => undefined)
    return done
  }

  /** Serve the pending checkpoint() calls; a failed flush or commit rejects them, not the run. */
  function serveCheckpoints(): void {
    const waiting = checkpointRequests
    checkpointRequests = []
    startCheckpoint().then(
      (c) => {
        for (const r of waiting) r.resolve(c)
      },
      (err: unknown) => {
        for (const r of waiting) r.reject(err)
      },
    )
  }

  /** A periodic checkpoint is due (and the previous one is done: they never pile up). */
  const checkpointDue = () =>
    options.checkpoints !== undefined && commitsInFlight === 0 && clock.now() >= nextCheckpointAt

  async function resume(): Promise<void> {
    if (resumed) return
    const latest = await (options.checkpoints as CheckpointStore).latestCheckpoint()
    if (latest !== undefined) restoreFrom(latest)
    // Only once it worked: a run after a failed read must not start from nothing.
    resumed = true
  }

  const cpStats = { checkpoints: 0, checkpointPauseMs: 0, checkpointCommitMs: 0, checkpointFailures: 0 }
  /** A periodic checkpoint nobody awaits failed: counted and logged (the next one retries). */
  const periodicFailed = (err: unknown) => {
    cpStats.checkpointFailures++
    logger.error(
      { error: err instanceof Error ? err.message : String(err), failures: cpStats.checkpointFailures },
      'a periodic checkpoint failed to commit; the previous one stays the resume point and the next interval retries',
    )
  }
  const metrics = (): PipelineMetrics => {
    const down = deadLettersOf(options.sink)
    // With a changelog the log is written by the checkpoint store (the committer), not behind the sink.
    if (down.logTotal === 0 && options.checkpoints !== undefined) {
      const cp = deadLettersOf(options.checkpoints as unknown as Sink<FeatureUpdate>)
      down.logTotal = cp.logTotal
      down.logByCode = cp.logByCode
    }
    const byReason: Record<string, number> = { ...deadByCode }
    for (const [code, n] of Object.entries(down.byCode)) byReason[`sink:${code}`] = n
    for (const [code, n] of Object.entries(down.logByCode)) byReason[`log:${code}`] = n
    return {
      ...op.metrics,
      deadLettersByReason: byReason,
      sinkDeadLetters: down.total,
      logDeadLetters: down.logTotal,
      batches,
      watermark: op.watermark,
      ...cpStats,
      historicEvents,
    }
  }

  /** After a batch (passes its output through): count history on the live path, say once what to use instead. */
  function noteHistory<T>(out: T): T {
    const n = op.historicInBatch
    if (n === 0) return out
    if (historicEvents === 0) {
      logger.warn(
        {
          historicEvents: n,
          oldestEventTime: new Date(op.oldestHistoricInBatch).toISOString(),
          historyWarningAgeMs: op.historyAgeMs,
        },
        `${n} event(s) of one batch are older than historyWarningAge behind the pipeline's clock: a live pipeline makes their values available now, so a training set over that period reads none of them. Compute history with backfill() (@skewless/offline-log) and resume the live pipeline from its checkpoint; set historyWarningAge or logger: false if this replay is intended.`,
      )
    }
    historicEvents += n
    return out
  }

  async function emit(updates: FeatureUpdate[], late?: LateEvent<Ev>[], dead?: DeadLetter<Ev>[]) {
    if (dead && dead.length > 0) telemetry?.deadLetters(dead)
    if (dead && dead.length > 0) {
      for (const d of dead) deadByCode[d.reason] = (deadByCode[d.reason] ?? 0) + 1
      if (options.deadLetters) {
        const r = options.deadLetters.write(dead)
        if (r) await r
      } else noteDropped(dead)
    }
    if (late && late.length > 0) {
      if (options.lateEvents) {
        const r = options.lateEvents.write(late)
        if (r) await r
      } else {
        const last = late[late.length - 1] as LateEvent<Ev>
        report.note(
          'late',
          late.length,
          { features: last.features, eventTime: last.eventTime, watermark: last.watermark },
          'events arrived behind the watermark by more than allowedLateness and were not applied (counted in metrics.lateEvents); give the pipeline a lateEvents output to keep them, or raise watermark.allowedLateness',
        )
      }
    }
    if (updates.length > 0) {
      const r = options.sink.write(updates)
      if (r) await r
    }
  }

  /** Dead letters without an output: one rate-limited warning per code, naming the reason. */
  function noteDropped(dead: DeadLetter<Ev>[]): void {
    const perCode = new Map<string, DeadLetter<Ev>[]>()
    for (const d of dead) {
      const list = perCode.get(d.reason)
      if (list === undefined) perCode.set(d.reason, [d])
      else list.push(d)
    }
    for (const [code, list] of perCode) {
      const last = list[list.length - 1] as DeadLetter<Ev>
      report.note(
        `dead-letter:${code}`,
        list.length,
        {
          reason: code,
          message: last.message,
          ...(last.feature === undefined ? {} : { feature: last.feature }),
        },
        `events were dead-lettered (${code}) and dropped, because the pipeline has no deadLetters output (counted in metrics.deadLetters); give it one to keep them`,
      )
    }
  }

  function emitOutput(out: {
    updates: FeatureUpdate[]
    late: LateEvent<Ev>[]
    deadLetters: DeadLetter<Ev>[]
  }) {
    return emit(out.updates, out.late, out.deadLetters)
  }

  async function runInner(runSignal: AbortSignal | undefined): Promise<PipelineResult> {
    const signals = [
      stop.signal,
      ...(options.signal ? [options.signal] : []),
      ...(runSignal ? [runSignal] : []),
    ]
    const aborted = () => signals.some((s) => s.aborted)
    const abortPromise = new Promise<'abort'>((resolve) => {
      for (const s of signals) s.addEventListener('abort', () => resolve('abort'), { once: true })
      if (aborted()) resolve('abort')
    })
    // Aborted when the run ends for any reason, so every source is told to stop at once.
    const sourceStop = new AbortController()
    await resume()
    if (options.checkpoints !== undefined) nextCheckpointAt = clock.now() + checkpointEveryMs
    const its = sources.map((src, i) =>
      resumable[i]
        ? (src as ResumableSource<Ev>)
            .open(positions[i], { signal: sourceStop.signal })
            [Symbol.asyncIterator]()
        : unpositioned(toBatches(src as Source<Ev>, { ...batchOpts, signal: sourceStop.signal })),
    )
    const lastActive = sources.map(() => clock.now())
    const pending: (Promise<{ i: number; r: IteratorResult<SourceBatch<Ev>> }> | undefined)[] = its.map(
      () => undefined,
    )
    const done = sources.map(() => false)
    let ended: PipelineResult['ended'] = 'completed'
    try {
      while (!done.every(Boolean)) {
        if (checkpointDue()) checkpointRequests.push({ resolve: () => undefined, reject: periodicFailed })
        if (checkpointRequests.length > 0) serveCheckpoints()
        if (aborted()) {
          ended = 'aborted'
          break
        }
        for (let i = 0; i < its.length; i++) {
          if (!done[i] && pending[i] === undefined) {
            pending[i] = (its[i] as AsyncIterator<SourceBatch<Ev>>).next().then((r) => ({ i, r }))
          }
        }
        const racers: Promise<unknown>[] = [
          abortPromise,
          new Promise((resolve) => {
            wakeRun = () => resolve('wake')
          }),
        ]
        for (const p of pending) if (p !== undefined) racers.push(p)
        let tick: NodeJS.Timeout | undefined
        // Wake for idleness checks, and for a periodic checkpoint while the sources wait for input.
        const waitMs = Math.min(
          tickMs ?? Number.POSITIVE_INFINITY,
          options.checkpoints === undefined
            ? Number.POSITIVE_INFINITY
            : Math.max(nextCheckpointAt - clock.now(), 1),
        )
        if (waitMs !== Number.POSITIVE_INFINITY) {
          racers.push(
            new Promise((resolve) => {
              tick = setTimeout(() => resolve('tick'), Math.min(waitMs, 2 ** 31 - 1))
            }),
          )
        }
        const got = (await Promise.race(racers)) as
          | 'abort'
          | 'tick'
          | 'wake'
          | { i: number; r: IteratorResult<SourceBatch<Ev>> }
        wakeRun = undefined
        if (tick !== undefined) clearTimeout(tick)
        if (got === 'abort') {
          ended = 'aborted'
          break
        }
        if (got === 'wake') continue
        if (got === 'tick') {
          await checkIdle(lastActive, done)
          continue
        }
        pending[got.i] = undefined
        if (got.r.done) {
          done[got.i] = true
          // An ended source no longer holds the watermark back.
          if (!done.every(Boolean)) await emit(op.setSourceIdle(got.i, true))
          continue
        }
        lastActive[got.i] = clock.now()
        const { events, position } = got.r.value
        if (events.length > 0) {
          batches++
          eventsPerSource[got.i] = (eventsPerSource[got.i] as number) + events.length
          // One expression: a local holding the output would keep it alive while the next batch is read.
          await emitOutput(noteHistory(op.process(events, got.i)))
        }
        if (position !== undefined) positions[got.i] = position
        if (idleMs !== undefined) await checkIdle(lastActive, done)
      }
      if (ended === 'completed') {
        const drain = options.drainTo ?? 'max-event-time'
        if (drain === 'max-event-time') await emit(op.advanceWatermark(op.maxEventTime))
        else if (typeof drain === 'number') await emit(op.advanceWatermark(drain))
      }
    } finally {
      // Do not await: a live source may be parked waiting for its next message. A read still in
      // flight may fail once its source is returned; it was raced above, so that is not unhandled.
      sourceStop.abort()
      for (const it of its) Promise.resolve(it.return?.(undefined)).catch(() => undefined)
    }
    for (const s of sinks) await s.flush()
    if (checkpointRequests.length > 0) serveCheckpoints()
    // A run that ends (completed or aborted) commits where it stopped, so a restart replays nothing;
    // a failure to commit fails the run.
    if (options.checkpoints !== undefined) await startCheckpoint()
    await commitChain
    report.flush()
    if (historicEvents > 0) {
      logger.info({ historicEvents }, 'the run read events older than historyWarningAge (see the warning)')
    }
    return { ended, metrics: metrics() }
  }

  async function checkIdle(lastActive: number[], done: boolean[]) {
    if (idleMs === undefined) return
    const now = clock.now()
    let allIdle = true
    for (let i = 0; i < lastActive.length; i++) {
      const idle = done[i] || now - (lastActive[i] as number) >= idleMs
      if (idle && !done[i] && !op.sourceIdle[i]) await emit(op.setSourceIdle(i, true))
      if (!idle) allIdle = false
    }
    // Every source idle: event time follows the clock so windows decay when events stop.
    if (allIdle) await emit(op.advanceWatermark(now - op.outOfOrdernessMs))
  }

  const pipeline: Pipeline = {
    run(runOptions) {
      if (closed) return Promise.reject(new ClosedError('pipeline', 'core'))
      if (running)
        return Promise.reject(new InvalidDefinitionError('core: pipeline.run() is already running'))
      running = runInner(runOptions?.signal)
        .catch((err: unknown) => {
          // The run failed: nothing will reach a batch boundary any more.
          const waiting = checkpointRequests
          checkpointRequests = []
          for (const r of waiting) r.reject(err)
          throw err
        })
        .finally(() => {
          running = undefined
        })
      return running
    },
    checkpoint(call) {
      if (closed) return Promise.reject(new ClosedError('pipeline', 'core'))
      const signal = call?.signal
      if (signal?.aborted) return Promise.reject(abortedError(signal, 'pipeline.checkpoint()'))
      if (!running) return raceAbort(resume().then(startCheckpoint), signal, 'pipeline.checkpoint()')
      return new Promise<PipelineCheckpoint>((resolve, reject) => {
        const request = { resolve, reject }
        checkpointRequests.push(request)
        if (signal !== undefined) {
          // Aborted while waiting for a batch boundary: the request leaves the queue, nothing is taken.
          const onAbort = (): void => {
            const i = checkpointRequests.indexOf(request)
            if (i >= 0) checkpointRequests.splice(i, 1)
            reject(abortedError(signal, 'pipeline.checkpoint()'))
          }
          signal.addEventListener('abort', onAbort, { once: true })
          const off = (): void => signal.removeEventListener('abort', onAbort)
          request.resolve = (cp) => {
            off()
            resolve(cp)
          }
          request.reject = (e) => {
            off()
            reject(e)
          }
        }
        wakeRun?.()
      })
    },
    async flush(call) {
      const signal = call?.signal
      for (const s of sinks) {
        throwIfAborted(signal, 'pipeline.flush()')
        await raceAbort(s.flush(call), signal, 'pipeline.flush()')
      }
    },
    async close(call) {
      if (closed) return
      closed = true
      telemetry?.close()
      stop.abort()
      const signal = call?.signal
      if (running)
        await raceAbort(
          running.catch(() => undefined),
          signal,
          'pipeline.close()',
        )
      for (const s of sinks) {
        throwIfAborted(signal, 'pipeline.close()')
        await raceAbort(s.close(call), signal, 'pipeline.close()')
      }
    },
    snapshot: () => op.snapshot(),
    metrics: metricsAccessor(metrics),
    features: groups.flatMap((g) => g.describe()),
    operator: op,
  }
  telemetry = pipelineTelemetry(pipeline, clock, options)
  return pipeline
}

/** `metrics()` as a function that also answers the old property form (`pipeline.metrics.eventsIn`). */
function metricsAccessor(snapshot: () => PipelineMetrics): PipelineMetricsAccessor {
  const accessor = (() => snapshot()) as PipelineMetricsAccessor
  for (const key of Object.keys(snapshot()) as (keyof PipelineMetrics)[]) {
    Object.defineProperty(accessor, key, { get: () => snapshot()[key], enumerable: true })
  }
  return accessor
}

/** A micro-batch as the run loop reads it: a plain source's batches have no position. */
type SourceBatch<E> = Omit<PositionedBatch<E>, 'position'> & { position?: SourcePosition }

async function* unpositioned<E>(batches: AsyncGenerator<E[]>): AsyncGenerator<SourceBatch<E>> {
  try {
    for await (const events of batches) yield { events }
  } finally {
    await batches.return(undefined)
  }
}

/**
 * Dead letters a sink reports through `metrics()` (the online sink does: its own, and the log's
 * behind it; the changelog committer reports its log's), read structurally; zeros without them.
 */
function deadLettersOf(sink: Sink<FeatureUpdate>): {
  total: number
  byCode: Record<string, number>
  logTotal: number
  logByCode: Record<string, number>
} {
  const m = (sink as { metrics?: () => unknown }).metrics
  const got = typeof m === 'function' ? (m.call(sink) as Record<string, unknown> | undefined) : undefined
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0)
  const rec = (v: unknown) =>
    typeof v === 'object' && v !== null ? (v as Record<string, number>) : ({} as Record<string, number>)
  return {
    total: num(got?.deadLetters),
    byCode: rec(got?.deadLettersByReason ?? got?.deadLettersByCode),
    logTotal: num(got?.logDeadLetters),
    logByCode: rec(got?.logDeadLettersByReason ?? got?.logDeadLettersByCode),
  }
}

const isCommitted = (d: CheckpointData | CommittedCheckpoint): d is CommittedCheckpoint =>
  (d as CommittedCheckpoint).format === 'skewless.checkpoint/1'

function checkSourceNames(names: readonly (string | undefined)[], needAll: boolean): void {
  const seen = new Set<string>()
  names.forEach((name, i) => {
    if (name === undefined) {
      if (needAll) {
        throw new InvalidDefinitionError(
          `core: source #${i} cannot resume from a position: a pipeline with \`checkpoints\` needs ResumableSources (arraySource, offsetSource, a stream partition)`,
        )
      }
      return
    }
    if (seen.has(name)) {
      throw new InvalidDefinitionError(
        `core: two sources are named '${name}': give each source a unique name`,
      )
    }
    seen.add(name)
  })
}
