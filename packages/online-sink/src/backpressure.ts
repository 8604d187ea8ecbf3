/**
 * Waiters of the sink: `write()` callers held back while the buffer is full (backpressure to the
 * source), and `flush()`/`close()` callers waiting on their flush epoch. Both are woken by `settle`,
 * called whenever writes reached their outcome.
 */
import type { SinkState } from './sink-state.js'

/** A promise that resolves once the sink has buffer space again (rejects when the sink failed). */
export function waitForRoom(sink: SinkState): Promise<void> {
  return new Promise<void>((resolve, reject) => sink.bpWaiters.push({ resolve, reject }))
}

/** Wake `write` callers waiting for buffer space and `flush` callers whose writes have their outcome. */
export function settle(sink: SinkState): void {
  const fatal = sink.fatal
  const buffered = sink.pendingCount + sink.inFlightUpdates
  if (sink.bpWaiters.length > 0 && (buffered < sink.maxBuffered || fatal !== undefined)) {
    const w = sink.bpWaiters
    sink.bpWaiters = []
    for (const x of w) fatal === undefined ? x.resolve() : x.reject(fatal)
  }
  if (fatal === undefined) sink.epochs.settle()
  else sink.epochs.fail(fatal)
}
