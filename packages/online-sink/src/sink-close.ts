/**
 * `close()` of the sink: reject later writes, drain like `flush()`, then close the outputs (never the
 * store). An aborted `{ signal }` abandons the store: nothing more is sent or retried, and every write
 * it has not acknowledged is dead-lettered, so a shutdown with the store down is bounded.
 */
import { settle } from './backpressure.js'
import { messageOf, SinkAbortedError } from './errors.js'
import type { KeyState } from './key-state.js'
import { pump } from './sink-dispatch.js'
import { flushOutputs, reached } from './sink-flush.js'
import { deadLetter, type SinkState } from './sink-state.js'
import type { OnlineDeadLetter, OnlineSinkWaitOptions } from './types.js'

/** `OnlineSink.close`: the same promise on every call; a later call's `signal` bounds it too. */
export function closeSink(sink: SinkState, options?: OnlineSinkWaitOptions): Promise<void> {
  const signal = options?.signal
  sink.closed = true
  // Abort first: an already aborted signal means "now", so nothing more is even sent.
  if (signal?.aborted) abandon(sink, signal.reason)
  sink.closing ??= shutdown(sink)
  if (signal !== undefined && !signal.aborted && !sink.drained) {
    const onAbort = (): void => abandon(sink, signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    const off = (): void => signal.removeEventListener('abort', onAbort)
    sink.closing.then(off, off)
  }
  return sink.closing
}

async function shutdown(sink: SinkState): Promise<void> {
  let failure: unknown
  const epoch = sink.epochs.close(sink.pendingCount + sink.inFlightUpdates)
  sink.flushing++
  try {
    pump(sink)
    // An aborted close signal ends this wait: abandon() finishes every unacknowledged write.
    await reached(sink, epoch, undefined)
    sink.drained = true
    await flushOutputs(sink, undefined)
  } catch (e) {
    failure = e
  } finally {
    sink.drained = true
    sink.flushing--
  }
  failure ??= sink.abandonFailure
  if (sink.timer !== undefined) clearTimeout(sink.timer)
  sink.timer = undefined
  // Close the outputs even after a failure, so their resources are released; the flush failure
  // (what was lost) is the error reported.
  for (const out of [sink.downstream, sink.deadSink]) {
    try {
      await out?.close()
    } catch (e) {
      failure ??= e
    }
  }
  // Summaries held back by the rate limit are logged now: the sink is done.
  sink.report.flush()
  if (failure !== undefined) throw failure
}

/**
 * `close()` was aborted: stop sending and retrying, and dead-letter (code `aborted`) every write the
 * store has not acknowledged (pending, or at the store with no answer yet), so nothing is lost
 * silently. Writes the store answered are kept: they go to the outputs as usual.
 */
function abandon(sink: SinkState, reason: unknown): void {
  if (sink.abandoned || sink.drained || sink.fatal !== undefined) return
  sink.abandoned = true
  if (sink.timer !== undefined) clearTimeout(sink.timer)
  sink.timer = undefined
  const why = messageOf(reason)
  const store = sink.store.name
  const dead: OnlineDeadLetter[] = []
  for (const b of sink.batches) {
    if (b.answered) continue
    b.abandoned = true
    sink.batches.delete(b)
    const atStore = `close() was aborted (${why}) while this write was at store '${store}' with no answer yet: it may or may not have landed`
    for (const u of b.updates) dead.push({ update: u, reason: 'aborted', message: atStore, code: 'aborted' })
    sink.inFlightUpdates -= b.updates.length
    sink.inFlight--
    sink.epochs.finishRuns(b.epochs)
  }
  const unsent = `close() was aborted (${why}) before it was sent to store '${store}'`
  const collect = (table: Map<string, KeyState>): void => {
    for (const keyState of table.values()) {
      if (keyState.pending === undefined) continue
      dead.push({ update: keyState.pending, reason: 'aborted', message: unsent, code: 'aborted' })
      keyState.pending = undefined
      sink.pendingCount--
      sink.epochs.finish(keyState.epoch, 1)
    }
  }
  for (const lane of sink.lanes.values()) {
    collect(lane.byEntity)
    for (const table of lane.byTile.values()) collect(table)
  }
  sink.queue = []
  sink.qHead = 0
  sink.queuedSince = Number.NaN
  for (const wake of sink.sleepers) wake()
  if (dead.length > 0) {
    const r = deadLetter(sink, dead)
    if (r) r.catch(sink.onOutputFailure)
    if (sink.deadSink === undefined) {
      sink.abandonFailure = new SinkAbortedError(
        `online-sink: close() was aborted (${why}) with ${dead.length} writes not acknowledged by store '${store}'; they are dropped (counted in metrics().deadLetters) because the sink has no deadLetters output: give it one to receive them`,
        dead.length,
        { cause: reason },
      )
    }
  }
  settle(sink)
}
