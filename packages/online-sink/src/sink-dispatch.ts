/**
 * The send side of the sink: take queued keys off the send queue in batches (by size or linger
 * time), run each batch as one store call (timeout and retries in store-call.ts) under the in-flight
 * limit, turn its outcomes into downstream writes and dead letters, and release the keys.
 */
import type { FeatureUpdate, FeatureWrite } from '@skewless/core'
import { toFeatureWrite } from '@skewless/core/adapter'
import { settle } from './backpressure.js'
import { isStoreUnreachable, isTransientError, messageOf, permanentCodeOf } from './errors.js'
import type { KeyState } from './key-state.js'
import { type Batch, deadLetter, type SinkState } from './sink-state.js'
import { applyWithRetries } from './store-call.js'
import type { OnlineDeadLetter, PermanentErrorCode, PermanentWriteFailure } from './types.js'

/** Send batches while the in-flight limit allows another store call and a batch is full or has lingered long enough. */
export function pump(sink: SinkState): void {
  // After a downstream failure nothing more is written: the log could not record it. After an
  // aborted close() nothing is sent either: what was pending is dead-lettered.
  if (sink.fatal !== undefined || sink.abandoned) return
  while (sink.inFlight < sink.maxInFlight) {
    const queued = sink.queue.length - sink.qHead
    if (queued === 0) return
    const lingering =
      queued < sink.maxBatchSize &&
      sink.flushing === 0 &&
      sink.lingerMs > 0 &&
      sink.pendingCount + sink.inFlightUpdates < sink.maxBuffered
    if (lingering) {
      const waited = performance.now() - sink.queuedSince
      if (waited < sink.lingerMs) {
        if (sink.timer === undefined) sink.timer = setTimeout(onLinger, sink.lingerMs - waited, sink)
        return
      }
    }
    dispatch(sink, Math.min(queued, sink.maxBatchSize))
  }
}

function onLinger(sink: SinkState): void {
  sink.timer = undefined
  pump(sink)
}

function dispatch(sink: SinkState, n: number): void {
  const keyStates = new Array<KeyState>(n)
  const updates = new Array<FeatureUpdate>(n)
  const epochs: number[] = []
  const q = sink.queue
  for (let k = 0; k < n; k++) {
    const s = q[sink.qHead++] as KeyState
    keyStates[k] = s
    updates[k] = s.pending as FeatureUpdate
    const runs = epochs.length
    if (runs > 0 && epochs[runs - 2] === s.epoch) epochs[runs - 1] = (epochs[runs - 1] as number) + 1
    else epochs.push(s.epoch, 1)
    s.pending = undefined
    s.busy = true
  }
  if (sink.qHead === q.length) {
    sink.queue = []
    sink.qHead = 0
    sink.queuedSince = Number.NaN
  } else if (sink.qHead > 4096 && sink.qHead * 2 > q.length) {
    sink.queue = q.slice(sink.qHead)
    sink.qHead = 0
  }
  sink.pendingCount -= n
  sink.inFlightUpdates += n
  sink.nWrites += n
  sink.inFlight++
  const b: Batch = { keyStates, updates, epochs, answered: false, abandoned: false }
  sink.batches.add(b)
  void sink.limit(() => runBatch(sink, b))
}

/** One store call with timeout and retries, then release the keys and emit downstream. Never rejects. */
async function runBatch(sink: SinkState, b: Batch): Promise<void> {
  const { keyStates, updates } = b
  // p-limit starts a batch a microtask after dispatch at the earliest: an aborted close() may have
  // dead-lettered it meanwhile, or an output failed. Either way it is not sent.
  if (b.abandoned) return
  if (sink.fatal !== undefined) return finishBatch(sink, b)
  const res = await applyWithRetries(sink.call, updates)
  // close() was aborted first: these writes are dead-lettered already, and the outputs may be
  // closed. (Answered writes are not retracted: a late 'applied' here is not in the log.)
  if (b.abandoned) return
  // The sink failed (an output), so it stopped retrying: like the writes still pending, these are
  // left to the replay that DownstreamError asks for (the outputs may be closed by now).
  if (!Array.isArray(res) && res.stopped) return finishBatch(sink, b)
  // The store says it cannot be reached at all (past its bound): stop, like a failed output, so
  // write/flush/close and the pipeline's run() reject with its error. These writes were not
  // acknowledged: they are left to the replay from the last checkpoint, not dead-lettered one by one.
  if (!Array.isArray(res) && isStoreUnreachable(res.error)) {
    sink.report.note(
      'store-unreachable',
      1,
      { store: sink.store.name, error: messageOf(res.error) },
      'online-sink: the store cannot be reached; the sink stops and its callers get the error',
      'error',
    )
    sink.onOutputFailure(res.error)
    return finishBatch(sink, b)
  }
  b.answered = true
  const outcomes = Array.isArray(res) ? res : undefined
  const error = Array.isArray(res) ? undefined : res.error
  const availableTime = sink.clock.now()
  const n = updates.length
  const writes: FeatureWrite[] = []
  const emit = sink.downstream !== undefined
  const emitStale = emit && sink.forwardStale
  let dead: OnlineDeadLetter[] | undefined
  let maxAge = Number.NEGATIVE_INFINITY
  if (outcomes !== undefined) {
    for (let i = 0; i < n; i++) {
      const u = updates[i] as FeatureUpdate
      const o = outcomes[i]
      if (o === 'applied') {
        sink.nApplied++
        const age = availableTime - u.eventTime
        sink.freshness.record(age)
        if (age > maxAge) maxAge = age
        if (emit) writes.push(toFeatureWrite(u, availableTime, 'applied'))
      } else if (o === 'stale') {
        sink.nStale++
        if (emitStale) writes.push(toFeatureWrite(u, availableTime, 'stale'))
      } else {
        const f = failureOf(o)
        dead ??= []
        dead.push({ update: u, reason: f.reason, message: f.message, code: f.reason })
      }
    }
    if (maxAge !== Number.NEGATIVE_INFINITY) sink.telemetry.batchFreshness(maxAge)
  } else {
    const code = isTransientError(error) ? 'retries-exhausted' : permanentCodeOf(error)
    const message =
      code === 'retries-exhausted'
        ? `gave up after ${sink.policy.retries} retries: ${messageOf(error)} (the write may or may not have landed)`
        : messageOf(error)
    dead = new Array(n)
    for (let i = 0; i < n; i++) dead[i] = { update: updates[i] as FeatureUpdate, reason: code, message, code }
  }
  // Release the keys first: the next write of a key may go out while this batch waits downstream,
  // because the ordered emitter still hands this batch's writes downstream before that one's.
  release(sink, keyStates)
  // Both outputs get a handler at once: awaiting one while the other fails would leave that
  // rejection unhandled, which crashes Node.
  const r1 = writes.length > 0 && sink.downstream ? sink.downstream.emit(writes) : undefined
  const r2 = dead !== undefined ? deadLetter(sink, dead) : undefined
  const p1 = r1 ? r1.catch(sink.onOutputFailure) : undefined
  const p2 = r2 ? r2.catch(sink.onOutputFailure) : undefined
  if (p1) await p1
  if (p2) await p2
  finishBatch(sink, b)
}

/** The batch is done with (outcomes taken by the outputs, or given up): count it out, wake waiters. */
function finishBatch(sink: SinkState, b: Batch): void {
  sink.inFlightUpdates -= b.updates.length
  sink.inFlight--
  sink.batches.delete(b)
  sink.epochs.finishRuns(b.epochs)
  settle(sink)
  pump(sink)
}

/** The store answered for these keys: requeue the ones with a newer pending update, park the rest. */
function release(sink: SinkState, keyStates: KeyState[]): void {
  const q = sink.queue
  for (let i = 0; i < keyStates.length; i++) {
    const s = keyStates[i] as KeyState
    s.busy = false
    if (s.pending !== undefined) {
      // It waited for a whole store round trip already: due at once.
      if (sink.qHead === q.length) sink.queuedSince = Number.NEGATIVE_INFINITY
      q.push(s)
    } else sink.pool.park(s)
  }
}

/**
 * The failure a store reported for one write, `{ reason, message }`. A store written against the
 * shape before 0.2 (`{ code, reason }`, the text in `reason`) is still read right.
 */
function failureOf(o: unknown): PermanentWriteFailure {
  const f = o as { reason?: unknown; message?: unknown; code?: unknown } | null
  if (typeof f === 'object' && f !== null && typeof f.reason === 'string') {
    if (typeof f.message === 'string') return f as PermanentWriteFailure
    if (typeof f.code === 'string') return { reason: f.code as PermanentErrorCode, message: f.reason }
  }
  return { reason: 'rejected', message: `unexpected outcome ${String(o)}` }
}
