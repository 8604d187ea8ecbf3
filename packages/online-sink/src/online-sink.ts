/**
 * The async online sink: buffers a pipeline's `FeatureUpdate`s per key, sends them to the store in
 * batches (by size or linger time) with a bounded number of store calls in flight, and emits every
 * acknowledged write, stamped with `availableTime`, downstream in per-key order.
 *
 * Hot path (`write`): one plain loop, one `Map` lookup per update keyed by a string; no promise or
 * closure per update. Promises and timers exist per batch (store call, linger, backoff) only.
 *
 * `flush()` is a barrier over flush epochs (see flush-epochs.ts); `close({ signal })` can give up on
 * the store and dead-letter what it has not acknowledged, so a shutdown is bounded.
 */
import {
  type Clock,
  ClosedError,
  type FeatureUpdate,
  type FeatureWrite,
  InvalidDefinitionError,
  type Sink,
  toFeatureWrite,
} from '@skewless/core'
import pLimit from 'p-limit'
import { isTransientError, messageOf, permanentCodeOf, SinkAbortedError } from './errors.js'
import { isNewer, type ResolvedFeatureConfig, resolveFeatures } from './feature-config.js'
import { FlushEpochs } from './flush-epochs.js'
import { Histogram } from './histogram.js'
import { FeatureLane, type Slot, SlotPool } from './key-slots.js'
import { OrderedEmitter } from './ordered-emitter.js'
import type { RetryPolicy } from './retry.js'
import { sinkSettings } from './sink-options.js'
import { applyWithRetries, type StoreCallContext } from './store-call.js'
import type {
  OnlineDeadLetter,
  OnlineSink,
  OnlineSinkMetrics,
  OnlineSinkOptions,
  OnlineSinkWaitOptions,
  OnlineStore,
  PermanentWriteFailure,
} from './types.js'

interface Waiter {
  resolve: () => void
  reject: (e: unknown) => void
}

/** One store call of the sink, from dispatch until its outcomes were handed to the outputs. */
interface Batch {
  slots: Slot[]
  updates: FeatureUpdate[]
  /** Flush epochs of its writes, run-length encoded: `[epoch, count, epoch, count, ...]`. */
  epochs: number[]
  /** The store answered: every write has its outcome (they may still wait for the outputs). */
  answered: boolean
  /** `close()` was aborted before the store answered: its writes were dead-lettered, the answer is ignored. */
  abandoned: boolean
}

/**
 * Create the async online sink. Pass it to `createPipeline({ sink })`.
 *
 * `close()` flushes, then closes `downstream` and `deadLetters`, but never the store: the caller
 * created it and closes it (several sinks and readers may share one store). `flush()` and `close()`
 * take an optional `{ signal }` that bounds their wait for the store (see `OnlineSinkWaitOptions`).
 * @throws InvalidDefinitionError when a feature's strategy is not supported by the store, or an option is invalid.
 */
export function onlineSink(options: OnlineSinkOptions): OnlineSink {
  return new AsyncOnlineSink(options)
}

class AsyncOnlineSink implements OnlineSink {
  private readonly store: OnlineStore
  private readonly features: Map<string, ResolvedFeatureConfig>
  private readonly clock: Clock
  private readonly forwardStale: boolean
  private readonly maxBatchSize: number
  private readonly lingerMs: number
  private readonly maxInFlight: number
  private readonly maxBuffered: number
  private readonly timeoutMs: number
  private readonly policy: RetryPolicy
  private readonly limit: ReturnType<typeof pLimit>
  private readonly downstream: OrderedEmitter<FeatureWrite> | undefined
  private readonly deadSink: OrderedEmitter<OnlineDeadLetter> | undefined
  private readonly rawDownstream: Sink<FeatureWrite> | undefined
  private readonly rawDeadLetters: Sink<OnlineDeadLetter> | undefined

  private readonly lanes = new Map<string, FeatureLane>()
  private readonly pool: SlotPool
  private queue: Slot[] = []
  private qHead = 0
  /** `performance.now()` when the oldest queued update was queued; NaN when the queue is empty. */
  private queuedSince = Number.NaN
  private timer: ReturnType<typeof setTimeout> | undefined
  private inFlight = 0
  private pendingCount = 0
  private inFlightUpdates = 0
  private flushing = 0
  private closed = false
  private closing: Promise<void> | undefined
  /** `close()` waited for every write: its signal no longer matters. */
  private drained = false
  /** `close()` was aborted: nothing is sent or retried any more. */
  private abandoned = false
  /** Why an aborted `close()` must reject (writes dropped for want of a dead-letter output). */
  private abandonFailure: unknown
  private fatal: unknown
  private bpWaiters: Waiter[] = []
  private readonly epochs = new FlushEpochs()
  /** Store calls not finished (answered or not); an aborted `close()` dead-letters the unanswered ones. */
  private readonly batches = new Set<Batch>()
  /** Wake-ups of the backoff sleeps in progress, so an aborted `close()` stops retrying at once. */
  private readonly sleepers = new Set<() => void>()

  private nUpdates = 0
  private nWrites = 0
  private nApplied = 0
  private nStale = 0
  private nCoalesced = 0
  private nRetries = 0
  private nDead = 0
  private readonly latency = new Histogram()
  private readonly call: StoreCallContext
  private readonly freshness = new Histogram()

  constructor(o: OnlineSinkOptions) {
    if (!o || typeof o.store?.apply !== 'function') {
      throw new InvalidDefinitionError('onlineSink needs a `store` (an OnlineStore, e.g. memoryStore())')
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
    this.pool = new SlotPool(Math.max(1024, this.maxBuffered))
    this.limit = pLimit(this.maxInFlight)
    this.call = {
      store: this.store,
      features: this.features,
      timeoutMs: this.timeoutMs,
      policy: this.policy,
      latency: this.latency,
      onRetry: () => {
        this.nRetries++
      },
      backoff: (ms) => this.backoff(ms),
      stopped: () => this.abandoned,
    }
    this.rawDownstream = o.downstream
    this.rawDeadLetters = o.deadLetters
    this.downstream = o.downstream
      ? new OrderedEmitter(o.downstream, 'the online sink downstream')
      : undefined
    this.deadSink = o.deadLetters
      ? new OrderedEmitter(o.deadLetters, 'the online sink dead-letter output')
      : undefined
  }

  write(batch: readonly FeatureUpdate[]): void | Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError('onlineSink'))
    if (this.fatal !== undefined) return Promise.reject(this.fatal)
    const lanes = this.lanes
    const queue = this.queue
    const wasEmpty = this.qHead === queue.length
    const epoch = this.epochs.current
    let dead: OnlineDeadLetter[] | undefined
    for (let i = 0; i < batch.length; i++) {
      const u = batch[i] as FeatureUpdate
      const lane = lanes.get(u.feature)
      if (lane === undefined) {
        dead ??= []
        dead.push({
          update: u,
          code: 'unknown-feature',
          reason: `feature '${u.feature}' is not in the sink's features; add an OnlineFeatureConfig for it`,
        })
        continue
      }
      if (typeof u.entity !== 'string' || !Number.isFinite(u.eventTime) || !Number.isFinite(u.version)) {
        dead ??= []
        dead.push({
          update: u,
          code: 'rejected',
          reason: `update of '${u.feature}' needs a string entity and finite eventTime and version, got entity ${String(u.entity)}, eventTime ${u.eventTime}, version ${u.version}`,
        })
        continue
      }
      let table = lane.byEntity
      let tile = Number.NaN
      if (lane.additive) {
        if (!Number.isFinite(u.tileStart)) {
          dead ??= []
          dead.push({
            update: u,
            code: 'rejected',
            reason: `additive feature '${u.feature}' needs updates with a finite tileStart, got tileStart ${u.tileStart}; define it with emit: 'tiles'`,
          })
          continue
        }
        tile = u.tileStart as number
        table = lane.tileTable(tile)
      }
      const s = table.get(u.entity)
      if (s === undefined) {
        queue.push(this.pool.take(lane, table, u.entity, tile, u, epoch))
        this.pendingCount++
      } else if (s.pending === undefined) {
        s.pending = u
        s.epoch = epoch
        this.pendingCount++
        if (!s.busy) queue.push(s)
      } else {
        // Coalescing: only the newest update of a key needs writing; the loser is never written or logged.
        const p = s.pending
        if (!lane.ordered || isNewer(u.eventTime, u.version, p.eventTime, p.version)) s.pending = u
        this.nCoalesced++
      }
    }
    this.nUpdates += batch.length
    if (wasEmpty && this.qHead < queue.length) this.queuedSince = performance.now()
    const r = dead !== undefined ? this.deadLetter(dead) : undefined
    this.pump()
    if (this.pendingCount + this.inFlightUpdates >= this.maxBuffered) {
      const full = new Promise<void>((resolve, reject) => this.bpWaiters.push({ resolve, reject }))
      return r ? Promise.all([r, full]).then(noop) : full
    }
    return r
  }

  async flush(options?: OnlineSinkWaitOptions): Promise<void> {
    if (this.fatal !== undefined) throw this.fatal
    const signal = options?.signal
    const epoch = this.epochs.close(this.pendingCount + this.inFlightUpdates)
    if (signal?.aborted) throw this.flushAborted(epoch, signal)
    this.flushing++
    try {
      this.pump()
      if (!(await this.reached(epoch, signal))) throw this.flushAborted(epoch, signal as AbortSignal)
      await this.flushOutputs(signal)
    } finally {
      this.flushing--
    }
  }

  close(options?: OnlineSinkWaitOptions): Promise<void> {
    const signal = options?.signal
    this.closed = true
    // Abort first: an already aborted signal means "now", so nothing more is even sent.
    if (signal?.aborted) this.abandon(signal.reason)
    this.closing ??= this.shutdown()
    if (signal !== undefined && !signal.aborted && !this.drained) {
      const onAbort = (): void => this.abandon(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      const off = (): void => signal.removeEventListener('abort', onAbort)
      this.closing.then(off, off)
    }
    return this.closing
  }

  private async shutdown(): Promise<void> {
    let failure: unknown
    const epoch = this.epochs.close(this.pendingCount + this.inFlightUpdates)
    this.flushing++
    try {
      this.pump()
      // An aborted close signal ends this wait: abandon() finishes every unacknowledged write.
      await this.reached(epoch, undefined)
      this.drained = true
      await this.flushOutputs(undefined)
    } catch (e) {
      failure = e
    } finally {
      this.drained = true
      this.flushing--
    }
    failure ??= this.abandonFailure
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    // Close the outputs even after a failure, so their resources are released; the flush failure
    // (what was lost) is the error reported.
    for (const out of [this.rawDownstream, this.rawDeadLetters]) {
      try {
        await out?.close()
      } catch (e) {
        failure ??= e
      }
    }
    if (failure !== undefined) throw failure
  }

  /** Resolves `true` once every write of `epoch` and before has its outcome, `false` on abort; rejects when the sink failed. */
  private async reached(epoch: number, signal: AbortSignal | undefined): Promise<boolean> {
    if (this.fatal !== undefined) throw this.fatal
    const ok = await this.epochs.wait(epoch, signal)
    if (this.fatal !== undefined) throw this.fatal
    return ok
  }

  /** Wait until the outputs took every batch handed to them, then flush them. */
  private async flushOutputs(signal: AbortSignal | undefined): Promise<void> {
    if (this.downstream) {
      await this.unlessAborted(this.downstream.idle(), signal)
      if (this.rawDownstream) await this.unlessAborted(this.rawDownstream.flush(), signal)
    }
    if (this.deadSink) {
      await this.unlessAborted(this.deadSink.idle(), signal)
      if (this.rawDeadLetters) await this.unlessAborted(this.rawDeadLetters.flush(), signal)
    }
  }

  /** `p`, or a `SinkAbortedError` when `signal` aborts first (the outputs keep going). */
  private unlessAborted(p: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
    if (signal === undefined) return p
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void =>
        reject(
          new SinkAbortedError(
            `onlineSink: flush() was aborted (${messageOf(signal.reason)}) while the downstream or dead-letter output was still taking or flushing writes; the store acknowledged all of them`,
            0,
            { cause: signal.reason },
          ),
        )
      if (signal.aborted) return onAbort()
      signal.addEventListener('abort', onAbort, { once: true })
      p.then(
        () => {
          signal.removeEventListener('abort', onAbort)
          resolve()
        },
        (e) => {
          signal.removeEventListener('abort', onAbort)
          reject(e)
        },
      )
    })
  }

  private flushAborted(epoch: number, signal: AbortSignal): SinkAbortedError {
    const n = this.epochs.outstanding(epoch)
    return new SinkAbortedError(
      `onlineSink: flush() was aborted (${messageOf(signal.reason)}) with ${n} writes made before it not acknowledged by store '${this.store.name}' yet (${this.nRetries} retries so far); they stay buffered and are still retried: call flush() again to wait for them, or close({ signal }) to dead-letter them`,
      n,
      { cause: signal.reason },
    )
  }

  /**
   * `close()` was aborted: stop sending and retrying, and dead-letter (code `aborted`) every write the
   * store has not acknowledged (pending, or at the store with no answer yet), so nothing is lost
   * silently. Writes the store answered are kept: they go to the outputs as usual.
   */
  private abandon(reason: unknown): void {
    if (this.abandoned || this.drained || this.fatal !== undefined) return
    this.abandoned = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    const why = messageOf(reason)
    const store = this.store.name
    const dead: OnlineDeadLetter[] = []
    for (const b of this.batches) {
      if (b.answered) continue
      b.abandoned = true
      this.batches.delete(b)
      const atStore = `close() was aborted (${why}) while this write was at store '${store}' with no answer yet: it may or may not have landed`
      for (const u of b.updates) dead.push({ update: u, code: 'aborted', reason: atStore })
      this.inFlightUpdates -= b.updates.length
      this.inFlight--
      this.epochs.finishRuns(b.epochs)
    }
    const unsent = `close() was aborted (${why}) before it was sent to store '${store}'`
    const collect = (table: Map<string, Slot>): void => {
      for (const slot of table.values()) {
        if (slot.pending === undefined) continue
        dead.push({ update: slot.pending, code: 'aborted', reason: unsent })
        slot.pending = undefined
        this.pendingCount--
        this.epochs.finish(slot.epoch, 1)
      }
    }
    for (const lane of this.lanes.values()) {
      collect(lane.byEntity)
      for (const table of lane.byTile.values()) collect(table)
    }
    this.queue = []
    this.qHead = 0
    this.queuedSince = Number.NaN
    for (const wake of this.sleepers) wake()
    if (dead.length > 0) {
      const r = this.deadLetter(dead)
      if (r) r.catch(this.onOutputFailure)
      if (this.deadSink === undefined) {
        this.abandonFailure = new SinkAbortedError(
          `onlineSink: close() was aborted (${why}) with ${dead.length} writes not acknowledged by store '${store}'; they are dropped (counted in metrics().deadLetters) because the sink has no deadLetters output: give it one to receive them`,
          dead.length,
          { cause: reason },
        )
      }
    }
    this.settle()
  }

  /** Sleep `ms` before a retry; an aborted `close()` wakes it early. */
  private backoff(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer)
        this.sleepers.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      this.sleepers.add(wake)
    })
  }

  metrics(): OnlineSinkMetrics {
    return {
      updates: this.nUpdates,
      writes: this.nWrites,
      applied: this.nApplied,
      stale: this.nStale,
      coalesced: this.nCoalesced,
      retries: this.nRetries,
      deadLetters: this.nDead,
      inFlightBatches: this.inFlight,
      buffered: this.pendingCount + this.inFlightUpdates,
      writeLatencyMs: this.latency.snapshot(),
      freshnessMs: this.freshness.snapshot(),
    }
  }

  /** Send batches while a store call slot is free and a batch is full or has lingered long enough. */
  private pump(): void {
    // After a downstream failure nothing more is written: the log could not record it. After an
    // aborted close() nothing is sent either: what was pending is dead-lettered.
    if (this.fatal !== undefined || this.abandoned) return
    while (this.inFlight < this.maxInFlight) {
      const queued = this.queue.length - this.qHead
      if (queued === 0) return
      const lingering =
        queued < this.maxBatchSize &&
        this.flushing === 0 &&
        this.lingerMs > 0 &&
        this.pendingCount + this.inFlightUpdates < this.maxBuffered
      if (lingering) {
        const waited = performance.now() - this.queuedSince
        if (waited < this.lingerMs) {
          if (this.timer === undefined) this.timer = setTimeout(this.onLinger, this.lingerMs - waited)
          return
        }
      }
      this.dispatch(Math.min(queued, this.maxBatchSize))
    }
  }

  private readonly onLinger = (): void => {
    this.timer = undefined
    this.pump()
  }

  private dispatch(n: number): void {
    const slots = new Array<Slot>(n)
    const updates = new Array<FeatureUpdate>(n)
    const epochs: number[] = []
    const q = this.queue
    for (let k = 0; k < n; k++) {
      const s = q[this.qHead++] as Slot
      slots[k] = s
      updates[k] = s.pending as FeatureUpdate
      const runs = epochs.length
      if (runs > 0 && epochs[runs - 2] === s.epoch) epochs[runs - 1] = (epochs[runs - 1] as number) + 1
      else epochs.push(s.epoch, 1)
      s.pending = undefined
      s.busy = true
    }
    if (this.qHead === q.length) {
      this.queue = []
      this.qHead = 0
      this.queuedSince = Number.NaN
    } else if (this.qHead > 4096 && this.qHead * 2 > q.length) {
      this.queue = q.slice(this.qHead)
      this.qHead = 0
    }
    this.pendingCount -= n
    this.inFlightUpdates += n
    this.nWrites += n
    this.inFlight++
    const b: Batch = { slots, updates, epochs, answered: false, abandoned: false }
    this.batches.add(b)
    void this.limit(() => this.runBatch(b))
  }

  /** One store call with timeout and retries, then release the keys and emit downstream. Never rejects. */
  private async runBatch(b: Batch): Promise<void> {
    const { slots, updates } = b
    const res = await applyWithRetries(this.call, updates)
    // close() was aborted first: these writes are dead-lettered already, and the outputs may be
    // closed. (Answered writes are not retracted: a late 'applied' here is not in the log.)
    if (b.abandoned) return
    b.answered = true
    const outcomes = Array.isArray(res) ? res : undefined
    const error = Array.isArray(res) ? undefined : res.error
    const availableTime = this.clock.now()
    const n = updates.length
    const writes: FeatureWrite[] = []
    const emit = this.downstream !== undefined
    const emitStale = emit && this.forwardStale
    let dead: OnlineDeadLetter[] | undefined
    if (outcomes !== undefined) {
      for (let i = 0; i < n; i++) {
        const u = updates[i] as FeatureUpdate
        const o = outcomes[i]
        if (o === 'applied') {
          this.nApplied++
          this.freshness.record(availableTime - u.eventTime)
          if (emit) writes.push(toFeatureWrite(u, availableTime, 'applied'))
        } else if (o === 'stale') {
          this.nStale++
          if (emitStale) writes.push(toFeatureWrite(u, availableTime, 'stale'))
        } else {
          const f = o as PermanentWriteFailure
          dead ??= []
          dead.push({
            update: u,
            code: f?.code ?? 'rejected',
            reason: f?.reason ?? `unexpected outcome ${o}`,
          })
        }
      }
    } else {
      const code = isTransientError(error) ? 'retries-exhausted' : permanentCodeOf(error)
      const reason =
        code === 'retries-exhausted'
          ? `gave up after ${this.policy.retries} retries: ${messageOf(error)} (the write may or may not have landed)`
          : messageOf(error)
      dead = new Array(n)
      for (let i = 0; i < n; i++) dead[i] = { update: updates[i] as FeatureUpdate, code, reason }
    }
    // Release the keys first: the next write of a key may go out while this batch waits downstream,
    // because the ordered emitter still hands this batch's writes downstream before that one's.
    this.release(slots)
    // Both outputs get a handler at once: awaiting one while the other fails would leave that
    // rejection unhandled, which crashes Node.
    const r1 = writes.length > 0 && this.downstream ? this.downstream.emit(writes) : undefined
    const r2 = dead !== undefined ? this.deadLetter(dead) : undefined
    const p1 = r1 ? r1.catch(this.onOutputFailure) : undefined
    const p2 = r2 ? r2.catch(this.onOutputFailure) : undefined
    if (p1) await p1
    if (p2) await p2
    this.inFlightUpdates -= n
    this.inFlight--
    this.batches.delete(b)
    this.epochs.finishRuns(b.epochs)
    this.settle()
    this.pump()
  }

  private readonly onOutputFailure = (e: unknown): void => {
    this.fatal ??= e
  }

  private release(slots: Slot[]): void {
    const q = this.queue
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i] as Slot
      s.busy = false
      if (s.pending !== undefined) {
        // It waited for a whole store round trip already: due at once.
        if (this.qHead === q.length) this.queuedSince = Number.NEGATIVE_INFINITY
        q.push(s)
      } else this.pool.park(s)
    }
  }

  private deadLetter(dead: OnlineDeadLetter[]): void | Promise<void> {
    this.nDead += dead.length
    return this.deadSink?.emit(dead)
  }

  /** Wake `write` callers waiting for buffer space and `flush` callers whose writes have their outcome. */
  private settle(): void {
    const fatal = this.fatal
    const buffered = this.pendingCount + this.inFlightUpdates
    if (this.bpWaiters.length > 0 && (buffered < this.maxBuffered || fatal !== undefined)) {
      const w = this.bpWaiters
      this.bpWaiters = []
      for (const x of w) fatal === undefined ? x.resolve() : x.reject(fatal)
    }
    if (fatal === undefined) this.epochs.settle()
    else this.epochs.fail(fatal)
  }
}

function noop(): void {}
