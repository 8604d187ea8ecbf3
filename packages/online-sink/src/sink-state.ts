/**
 * The state of one online sink, shared by the functions that make it up: the write front
 * (sink-write.ts), the send side (sink-dispatch.ts), backpressure (backpressure.ts), the flush barrier
 * (sink-flush.ts) and the shutdown path (sink-close.ts). A class of plain fields, so the hot path
 * reads them as directly as a method reads `this`; the functions take it as their first argument.
 */
import { type Clock, type FeatureUpdate, type FeatureWrite, InvalidDefinitionError } from '@skewless/core'
import { resolveLogger, type ThrottledReporter, throttledReporter } from '@skewless/core/adapter'
import pLimit from 'p-limit'
import { messageOf } from './errors.js'
import { type ResolvedFeatureConfig, resolveFeatures } from './feature-config.js'
import { FlushEpochs } from './flush-epochs.js'
import { Histogram } from './histogram.js'
import { FeatureLane, type KeyState, KeyStatePool } from './key-state.js'
import { OrderedEmitter } from './ordered-emitter.js'
import { interruptibleSleep, type RetryPolicy } from './retry.js'
import { sinkSettings } from './sink-options.js'
import type { StoreCallContext } from './store-call.js'
import { type SinkTelemetry, sinkTelemetry } from './telemetry.js'
import type { OnlineDeadLetter, OnlineSinkOptions, OnlineStore } from './types.js'

/** A `write()` caller waiting for buffer space. */
export interface Waiter {
  resolve: () => void
  reject: (e: unknown) => void
}

/** One store call of the sink, from dispatch until its outcomes were handed to the outputs. */
export interface Batch {
  keyStates: KeyState[]
  updates: FeatureUpdate[]
  /** Flush epochs of its writes, run-length encoded: `[epoch, count, epoch, count, ...]`. */
  epochs: number[]
  /** The store answered: every write has its outcome (they may still wait for the outputs). */
  answered: boolean
  /** `close()` was aborted before the store answered: its writes were dead-lettered, the answer is ignored. */
  abandoned: boolean
}

/** Options resolved once, per-key states, the send queue, lifecycle flags and counters of one sink. */
export class SinkState {
  readonly store: OnlineStore
  readonly features: Map<string, ResolvedFeatureConfig>
  readonly clock: Clock
  readonly forwardStale: boolean
  readonly maxBatchSize: number
  readonly lingerMs: number
  readonly maxInFlight: number
  readonly maxBuffered: number
  readonly timeoutMs: number
  readonly policy: RetryPolicy
  readonly limit: ReturnType<typeof pLimit>
  readonly downstream: OrderedEmitter<FeatureWrite> | undefined
  readonly deadSink: OrderedEmitter<OnlineDeadLetter> | undefined

  readonly lanes = new Map<string, FeatureLane>()
  readonly pool: KeyStatePool
  queue: KeyState[] = []
  qHead = 0
  /** `performance.now()` when the oldest queued update was queued; NaN when the queue is empty. */
  queuedSince = Number.NaN
  timer: ReturnType<typeof setTimeout> | undefined
  inFlight = 0
  pendingCount = 0
  inFlightUpdates = 0
  flushing = 0
  closed = false
  closing: Promise<void> | undefined
  /** `close()` waited for every write: its signal no longer matters. */
  drained = false
  /** `close()` was aborted: nothing is sent or retried any more. */
  abandoned = false
  /** Why an aborted `close()` must reject (writes dropped for want of a dead-letter output). */
  abandonFailure: unknown
  fatal: unknown
  bpWaiters: Waiter[] = []
  readonly epochs = new FlushEpochs()
  /** Store calls not finished (answered or not); an aborted `close()` dead-letters the unanswered ones. */
  readonly batches = new Set<Batch>()
  /** Wake-ups of the backoff sleeps in progress, so an aborted `close()` stops retrying at once. */
  readonly sleepers = new Set<() => void>()

  nUpdates = 0
  nWrites = 0
  nApplied = 0
  nStale = 0
  nCoalesced = 0
  nRetries = 0
  nDead = 0
  /** Dead letters per code (`serialization`, `retries-exhausted`, ...). */
  readonly deadByCode: Record<string, number> = {}
  /** Retry, dead-letter and failure summaries for the logger (rate-limited per kind). */
  readonly report: ThrottledReporter
  readonly latency = new Histogram()
  readonly call: StoreCallContext
  readonly freshness = new Histogram()
  /** OpenTelemetry instruments (observable counters read from this state; see telemetry.ts). */
  readonly telemetry: SinkTelemetry

  constructor(o: OnlineSinkOptions) {
    if (!o || typeof o.store?.apply !== 'function') {
      throw new InvalidDefinitionError(
        'online-sink: onlineSink needs a `store` (an OnlineStore, e.g. memoryStore())',
      )
    }
    this.store = o.store
    this.features = resolveFeatures(o.features, o.store, 'onlineSink')
    for (const [name, f] of this.features) this.lanes.set(name, new FeatureLane(f))
    const settings = sinkSettings(o)
    this.clock = settings.clock
    this.forwardStale = settings.forwardStale
    this.maxBatchSize = settings.maxBatchSize
    this.lingerMs = settings.lingerMs
    this.maxInFlight = settings.maxInFlight
    this.maxBuffered = settings.maxBuffered
    this.timeoutMs = settings.timeoutMs
    this.policy = settings.policy
    this.report = throttledReporter(resolveLogger(o.logger))
    this.pool = new KeyStatePool(Math.max(1024, this.maxBuffered))
    this.limit = pLimit(this.maxInFlight)
    this.call = {
      store: this.store,
      features: this.features,
      applyOptions: settings.changelog ? undefined : { changelog: false },
      timeoutMs: this.timeoutMs,
      policy: this.policy,
      latency: this.latency,
      onRetry: (err) => {
        this.nRetries++
        this.report.note(
          'retry',
          1,
          { store: this.store.name, retries: this.nRetries, error: messageOf(err) },
          'online-sink: store calls failed with a transient error and are retried with backoff (count: retries since the previous line)',
        )
      },
      // An aborted close() or a failed output wakes every sleep in `sleepers`, so the sink stops
      // retrying at once.
      backoff: (ms) => interruptibleSleep(ms, this.sleepers),
      stopped: () => this.abandoned || this.fatal !== undefined,
    }
    this.downstream = o.downstream
      ? new OrderedEmitter(o.downstream, 'the online sink downstream')
      : undefined
    this.deadSink = o.deadLetters
      ? new OrderedEmitter(o.deadLetters, 'the online sink dead-letter output')
      : undefined
    this.telemetry = sinkTelemetry(this, o.store.name, o)
  }

  /**
   * An output failed: the sink stops (nothing more is written, waiters reject with it). Retries stop
   * too: with `retries: Infinity` a batch at a dead store would otherwise retry forever, after
   * `close()` rejected.
   */
  readonly onOutputFailure = (e: unknown): void => {
    if (this.fatal !== undefined) return
    this.fatal = e
    for (const wake of this.sleepers) wake()
  }
}

/**
 * Count `dead` (in all and per code) and hand it to the dead-letter output; without one, log a
 * rate-limited warning per code naming the reason, so no write vanishes unseen. Returns the output's
 * backpressure promise.
 */
export function deadLetter(sink: SinkState, dead: OnlineDeadLetter[]): void | Promise<void> {
  sink.nDead += dead.length
  sink.telemetry.deadLetters(dead)
  let code: string | undefined
  let n = 0
  for (let i = 0; i <= dead.length; i++) {
    const d = dead[i]
    if (d !== undefined && d.reason === code) {
      n++
      continue
    }
    if (code !== undefined) {
      sink.deadByCode[code] = (sink.deadByCode[code] ?? 0) + n
      if (sink.deadSink === undefined) {
        const last = dead[i - 1] as OnlineDeadLetter
        sink.report.note(
          `dead-letter:${code}`,
          n,
          { store: sink.store.name, reason: code, feature: last.update.feature, message: last.message },
          `online-sink: writes were dead-lettered (${code}) and dropped, because the sink has no deadLetters output (they are counted in metrics().deadLetters); give it one to keep them`,
        )
      }
    }
    if (d !== undefined) {
      code = d.reason
      n = 1
    }
  }
  return sink.deadSink?.emit(dead)
}
