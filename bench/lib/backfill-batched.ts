/**
 * The backfill of commit b028c48, before issue 12, kept for `bench/backfill.ts` (the "before" row)
 * and to show the chunking property failing on it: it makes one micro-batch per source chunk
 * (4096 events for an array), so every update is available at the chunk's last event time.
 *
 * Backfill: compute features over historical events with the same operators as the live pipeline
 * and append them to an offline log, so training sets exist for the time before the pipeline went
 * live — with the same window edges, decay and versions, hence no training/serving skew by
 * construction.
 *
 * A backfilled value was never served, so its `availableTime` is simulated: events are taken to
 * arrive at their event time, and an update becomes available at the stream's event-time frontier
 * when the operator emitted it (the greatest event time seen so far, which is never before the
 * update's own eventTime) plus `availabilityDelay`. A decay is emitted only once the watermark
 * passed it, so it becomes available `outOfOrderness` after it happened, as it would online.
 */
import {
  createPipeline,
  type FeatureUpdate,
  type FeatureWrite,
  InvalidDefinitionError,
  type Pipeline,
  type Sink,
  toMs,
} from '@skewless/core'
import { toFeatureWrite } from '@skewless/core/adapter'
import type { BackfillOptions, BackfillResult } from '@skewless/offline-log'

/**
 * Run `options.source` through the features to its end and append every update to `options.log`
 * as an applied `FeatureWrite` (see the module comment for `availableTime`). Resolves once the log
 * has everything (its `flush()`); the log stays open. The result's `checkpoint` lets a live
 * pipeline continue exactly where the backfill stopped (`createPipeline({ checkpoint })`).
 * @throws InvalidDefinitionError for a bad definition or option, before any event is read.
 */
export async function backfillBatched<E>(options: BackfillOptions<E>): Promise<BackfillResult> {
  const { log, availabilityDelay, ...pipelineOptions } = options
  if (!log || typeof log.write !== 'function' || typeof log.flush !== 'function') {
    throw new InvalidDefinitionError('backfill needs `log`: an OfflineLog (memoryLog, parquetLog...)')
  }
  const delayMs = toMs(availabilityDelay ?? 0, 'availabilityDelay')
  let records = 0
  let pipeline: Pipeline | undefined
  const sink: Sink<FeatureUpdate> = {
    write(updates) {
      // Called right after the operator emitted `updates`: its max event time is the frontier.
      const frontier = (pipeline as Pipeline).operator.maxEventTime
      const writes: FeatureWrite[] = new Array(updates.length)
      for (let i = 0; i < updates.length; i++) {
        const u = updates[i] as FeatureUpdate
        const w = toFeatureWrite(u, Math.max(u.eventTime, frontier) + delayMs, 'applied')
        writes[i] = w
      }
      records += writes.length
      return log.write(writes)
    },
    flush: () => log.flush(),
    // The log belongs to the caller: the backfill never closes it.
    close: () => log.flush(),
  }
  pipeline = createPipeline({ drainTo: 'none', logger: false, ...pipelineOptions, sink })
  const result = await pipeline.run()
  return { ...result, records, checkpoint: pipeline.snapshot() }
}
