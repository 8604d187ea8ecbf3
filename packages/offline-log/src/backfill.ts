/**
 * Backfill: compute features over historical events with the same operators as the live pipeline
 * and append them to an offline log, so training sets exist for the time before the pipeline went
 * live — with the same window edges, decay and versions, hence no training/serving skew by
 * construction.
 *
 * The simulated live run (docs/consistency.md, "Backfilled history"): the source's order is the
 * arrival order, and the simulation's clock is the event-time frontier (the greatest event time
 * read so far). Every instant (a run of consecutive events with the same event time) is processed
 * as its own micro-batch, as a live pipeline would if every event arrived at its event time, and
 * its updates are available at the frontier plus `availabilityDelay`. So an in-order event's value
 * is available at its own event time (plus the delay); an out-of-order event arrives, like in the
 * stream it comes from, after the later events before it: at the frontier, never sooner. A decay
 * is emitted once the watermark passed it, so it is available `outOfOrderness` after it happened.
 * The result does not depend on how the source is chunked.
 */
import {
  type CheckpointData,
  type CommittedCheckpoint,
  type DeadLetter,
  type FeatureGroup,
  type FeatureUpdate,
  type FeatureWrite,
  InvalidDefinitionError,
  type LateEvent,
  type PipelineMetrics,
  type ResumableSource,
  type Source,
  toMs,
} from '@skewless/core'
import { isResumableSource, progressReporter, toBatches, toFeatureWrite } from '@skewless/core/adapter'
import { createOperator, type OperatorOutput } from '@skewless/core/internal'
import { InstantRuns } from './instant-runs.js'
import type { BackfillOptions, BackfillResult } from './types.js'

/**
 * Run `options.source` through the features to its end and append every update to `options.log`
 * as an applied `FeatureWrite` (see the module comment for `availableTime`). Resolves once the log
 * has everything (its `flush()`); the log stays open. The result's `checkpoint` lets a live
 * pipeline continue exactly where the backfill stopped (`createPipeline({ checkpoint })`).
 * @throws InvalidDefinitionError for a bad definition or option, before any event is read.
 */
export async function backfill<E>(options: BackfillOptions<E>): Promise<BackfillResult> {
  const { log } = options
  if (!log || typeof log.write !== 'function' || typeof log.flush !== 'function') {
    throw new InvalidDefinitionError(
      'offline-log: backfill needs `log`: an OfflineLog (memoryLog, parquetLog...)',
    )
  }
  const delayMs = toMs(options.availabilityDelay ?? 0, 'availabilityDelay')
  const source = oneSource(options)
  const groups = (
    Array.isArray(options.features) ? options.features : [options.features]
  ) as FeatureGroup<E>[]
  const op = createOperator(groups, {
    ...(options.watermark === undefined ? {} : { watermark: options.watermark }),
    ...(options.failFast === undefined ? {} : { failFast: options.failFast }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.allowEarlyTimes === undefined ? {} : { allowEarlyTimes: options.allowEarlyTimes }),
  })
  if (options.checkpoint !== undefined) {
    const cp = options.checkpoint
    op.restore(
      (cp as CommittedCheckpoint).format === 'skewless.checkpoint/1'
        ? (cp as CommittedCheckpoint).operator
        : (cp as CheckpointData),
    )
  }
  const runs = new InstantRuns<E>(groups)
  let writes: FeatureWrite[] = []
  let late: LateEvent<E>[] = []
  let dead: DeadLetter<E>[] = []
  let records = 0
  let instants = 0
  const deadByCode: Record<string, number> = {}
  // Called once per instant, synchronously: the async cost is paid per source chunk, never per event.
  const collect = (updates: FeatureUpdate[]) => {
    // The simulation's clock when these were emitted: the frontier (never before an update's own time).
    const frontier = op.maxEventTime
    for (let i = 0; i < updates.length; i++) {
      const u = updates[i] as FeatureUpdate
      writes.push(toFeatureWrite(u, Math.max(u.eventTime, frontier) + delayMs, 'applied'))
    }
  }
  const processInstant = (events: E[]) => {
    instants++
    const out: OperatorOutput<E> = op.process(events)
    for (const x of out.late) late.push(x)
    for (const x of out.deadLetters) {
      dead.push(x)
      deadByCode[x.reason] = (deadByCode[x.reason] ?? 0) + 1
    }
    collect(out.updates)
  }
  const drainOutputs = async () => {
    if (dead.length > 0 && options.deadLetters) await options.deadLetters.write(dead)
    if (late.length > 0 && options.lateEvents) await options.lateEvents.write(late)
    dead = []
    late = []
    if (writes.length === 0) return
    const batch = writes
    writes = []
    records += batch.length
    await log.write(batch)
  }

  let ended: BackfillResult['ended'] = 'completed'
  const signal = options.signal
  const batching = {
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    ...(options.linger === undefined ? {} : { linger: options.linger }),
    ...(options.lingerMs === undefined ? {} : { lingerMs: options.lingerMs }),
    ...(signal === undefined ? {} : { signal }),
  }
  const progress = progressReporter(options.onProgress, 'replay', 'event')
  for await (const chunk of toBatches(source, batching)) {
    runs.push(chunk, processInstant)
    progress.add(chunk.length)
    await drainOutputs()
    if (signal?.aborted) {
      ended = 'aborted'
      break
    }
  }
  if (signal?.aborted) ended = 'aborted'
  // An aborted backfill stops where it is: the run held back is not processed, as if never read.
  if (ended === 'completed') {
    runs.end(processInstant)
    const drain = options.drainTo ?? 'none'
    if (drain === 'max-event-time') collect(op.advanceWatermark(op.maxEventTime))
    else if (typeof drain === 'number') collect(op.advanceWatermark(drain))
    await drainOutputs()
  }
  await log.flush()
  await options.deadLetters?.flush()
  await options.lateEvents?.flush()
  progress.finish()
  const metrics: PipelineMetrics = {
    ...op.metrics,
    // A backfill writes the log directly (no sink); what the log refuses goes to the log's deadLetters.
    deadLettersByReason: deadByCode,
    sinkDeadLetters: 0,
    logDeadLetters: 0,
    batches: instants,
    watermark: op.watermark,
    checkpoints: 0,
    checkpointPauseMs: 0,
    checkpointCommitMs: 0,
    checkpointFailures: 0,
    historicEvents: 0,
  }
  return { ended, metrics, records, checkpoint: op.snapshot() }
}

/** The one source of a backfill, as a plain source read from its start. */
function oneSource<E>(options: BackfillOptions<E>): Source<E> {
  const sources = options.sources ?? (options.source !== undefined ? [options.source] : [])
  if (sources.length !== 1) {
    throw new InvalidDefinitionError(
      sources.length === 0
        ? 'backfill needs `source`: the historical events, oldest first'
        : `backfill reads one source, got ${sources.length}: merge the partitions by event time into one source first (the simulated arrival order is the source's order)`,
    )
  }
  // Not in the type; refused for callers in plain JavaScript or with a cast.
  if ((options as { checkpoints?: unknown }).checkpoints !== undefined) {
    throw new InvalidDefinitionError(
      'offline-log: backfill takes no `checkpoints`: it returns its `checkpoint`; pass that to the live pipeline, which commits its own',
    )
  }
  const src = sources[0] as Source<E> | ResumableSource<E>
  if (!isResumableSource(src)) return src
  return eventsOf(src, options.signal)
}

/** A resumable source read from its start, without positions (a backfill is not resumed). */
async function* eventsOf<E>(src: ResumableSource<E>, signal?: AbortSignal): AsyncGenerator<readonly E[]> {
  for await (const b of src.open(undefined, { signal: signal ?? new AbortController().signal }))
    yield b.events
}
