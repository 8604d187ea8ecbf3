/**
 * `flush()` of the sink: a barrier over flush epochs (see flush-epochs.ts), then a flush of the
 * outputs; an aborted `{ signal }` ends the wait with a `SinkAbortedError` that says what is left.
 */
import { messageOf, SinkAbortedError } from './errors.js'
import { pump } from './sink-dispatch.js'
import type { SinkState } from './sink-state.js'
import type { OnlineSinkWaitOptions } from './types.js'

/** `OnlineSink.flush`. */
export async function flushSink(sink: SinkState, options?: OnlineSinkWaitOptions): Promise<void> {
  if (sink.fatal !== undefined) throw sink.fatal
  const signal = options?.signal
  const epoch = sink.epochs.close(sink.pendingCount + sink.inFlightUpdates)
  if (signal?.aborted) throw flushAborted(sink, epoch, signal)
  sink.flushing++
  try {
    pump(sink)
    if (!(await reached(sink, epoch, signal))) throw flushAborted(sink, epoch, signal as AbortSignal)
    await flushOutputs(sink, signal)
  } finally {
    sink.flushing--
  }
}

/** Resolves `true` once every write of `epoch` and before has its outcome, `false` on abort; rejects when the sink failed. */
export async function reached(
  sink: SinkState,
  epoch: number,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  if (sink.fatal !== undefined) throw sink.fatal
  const ok = await sink.epochs.wait(epoch, signal)
  if (sink.fatal !== undefined) throw sink.fatal
  return ok
}

/**
 * Wait until the outputs took every batch handed to them, then flush them. An output whose flush
 * fails stops the sink as a failed write does (`DownstreamError`): what it took may not be durable.
 */
export async function flushOutputs(sink: SinkState, signal: AbortSignal | undefined): Promise<void> {
  for (const out of [sink.downstream, sink.deadSink]) {
    if (out === undefined) continue
    const flushed = out.flush()
    flushed.catch(sink.onOutputFailure)
    await unlessAborted(flushed, signal)
  }
}

/** `p`, or a `SinkAbortedError` when `signal` aborts first (the outputs keep going). */
function unlessAborted(p: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return p
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void =>
      reject(
        new SinkAbortedError(
          `online-sink: flush() was aborted (${messageOf(signal.reason)}) while the downstream or dead-letter output was still taking or flushing writes; the store acknowledged all of them`,
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

function flushAborted(sink: SinkState, epoch: number, signal: AbortSignal): SinkAbortedError {
  const n = sink.epochs.outstanding(epoch)
  return new SinkAbortedError(
    `online-sink: flush() was aborted (${messageOf(signal.reason)}) with ${n} writes made before it not acknowledged by store '${sink.store.name}' yet (${sink.nRetries} retries so far); they stay buffered and are still retried: call flush() again to wait for them, or close({ signal }) to dead-letter them`,
    n,
    { cause: signal.reason },
  )
}
