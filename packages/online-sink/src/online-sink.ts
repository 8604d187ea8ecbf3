/**
 * The async online sink: buffers a pipeline's `FeatureUpdate`s per key, sends them to the store in
 * batches (by size or linger time) with a bounded number of store calls in flight, and emits every
 * acknowledged write, stamped with `availableTime`, downstream in per-key order.
 *
 * The sink is its state (sink-state.ts) and the functions over it, one file per responsibility:
 * - sink-write.ts: the hot path, `write()`: per-key states, coalescing, backpressure;
 * - sink-dispatch.ts: batches, store calls (store-call.ts) and their outcomes;
 * - backpressure.ts: waking the callers of `write()` and `flush()`;
 * - sink-flush.ts: `flush()`, a barrier over flush epochs (see flush-epochs.ts);
 * - sink-close.ts: `close({ signal })`, which can give up on the store and dead-letter what it has
 *   not acknowledged, so a shutdown is bounded.
 */

import type { FeatureUpdate } from '@skewless/core'
import { closeSink } from './sink-close.js'
import { flushSink } from './sink-flush.js'
import { SinkState } from './sink-state.js'
import { writeUpdates } from './sink-write.js'
import type { OnlineSink, OnlineSinkMetrics, OnlineSinkOptions, OnlineSinkWaitOptions } from './types.js'

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

/**
 * What the downstream (an offline log) rejected, from its `metrics()` when it has one (read
 * structurally: any `Sink` may be the downstream).
 */
function logDeadLettersOf(downstream: OnlineSinkOptions['downstream']): {
  logDeadLetters: number
  logDeadLettersByReason: Record<string, number>
  logDeadLettersByCode: Record<string, number>
} {
  const m = (downstream as { metrics?: () => unknown } | undefined)?.metrics
  const got =
    typeof m === 'function' ? (m.call(downstream) as Record<string, unknown> | undefined) : undefined
  const n = got?.deadLetters
  const byCode = got?.deadLettersByReason ?? got?.deadLettersByCode
  return {
    logDeadLetters: typeof n === 'number' ? n : 0,
    logDeadLettersByReason:
      typeof byCode === 'object' && byCode !== null ? { ...(byCode as Record<string, number>) } : {},
    logDeadLettersByCode:
      typeof byCode === 'object' && byCode !== null ? { ...(byCode as Record<string, number>) } : {},
  }
}

class AsyncOnlineSink implements OnlineSink {
  private readonly sink: SinkState
  private readonly downstream: OnlineSinkOptions['downstream']

  constructor(o: OnlineSinkOptions) {
    this.sink = new SinkState(o)
    this.downstream = o.downstream
  }

  write(batch: readonly FeatureUpdate[]): void | Promise<void> {
    return writeUpdates(this.sink, batch)
  }

  flush(options?: OnlineSinkWaitOptions): Promise<void> {
    return flushSink(this.sink, options)
  }

  close(options?: OnlineSinkWaitOptions): Promise<void> {
    const closing = closeSink(this.sink, options)
    // Once closed, the final counts are exported at the next collection, then no longer.
    closing.then(this.sink.telemetry.close, this.sink.telemetry.close)
    return closing
  }

  metrics(): OnlineSinkMetrics {
    const s = this.sink
    return {
      updates: s.nUpdates,
      writes: s.nWrites,
      applied: s.nApplied,
      stale: s.nStale,
      coalesced: s.nCoalesced,
      retries: s.nRetries,
      deadLetters: s.nDead,
      deadLettersByReason: { ...s.deadByCode },
      deadLettersByCode: { ...s.deadByCode },
      ...logDeadLettersOf(this.downstream),
      inFlightBatches: s.inFlight,
      buffered: s.pendingCount + s.inFlightUpdates,
      writeLatencyMs: s.latency.snapshot(),
      freshnessMs: s.freshness.snapshot(),
    }
  }
}
