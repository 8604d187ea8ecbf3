/**
 * The pipeline's OpenTelemetry instruments. Counters are observable: the callback reads the
 * pipeline's own counters at collection time, so the batch loop pays nothing for them. Checkpoint
 * durations are histograms recorded once per checkpoint; dead letters are counted by reason as
 * they leave (bad events only, never the good path).
 */
import type { Attributes } from '@opentelemetry/api'
import { componentTelemetry, keyedCounts, type TelemetryOptions } from './telemetry.js'
import type { Clock, DeadLetter, PipelineMetrics } from './types.js'

/** What the pipeline calls where events happen. */
export interface PipelineTelemetry {
  /** Dead letters of one batch (counted by code and feature). */
  deadLetters(dead: readonly DeadLetter<unknown>[]): void
  /** A checkpoint was committed: how long it paused the stream and how long until it committed (ms). */
  checkpoint(pauseMs: number, commitMs: number): void
  /** The pipeline was closed: observe its final counts once more, then stop. */
  close(): void
}

/** Instrument a pipeline; `target.metrics()` is read at each collection. */
export function pipelineTelemetry(
  target: { metrics(): PipelineMetrics },
  clock: Clock,
  options: TelemetryOptions,
): PipelineTelemetry {
  const tel = componentTelemetry('@skewless/core', options)
  const base = tel.base
  const counter = tel.observableCounter
  const events = counter('skewless.pipeline.events', '{event}', 'Events read from the sources.')
  const late = counter('skewless.pipeline.events.late', '{event}', 'Events sent to the late-events output.')
  const historic = counter(
    'skewless.pipeline.events.historic',
    '{event}',
    'Events older than historyWarningAge read by a live pipeline (history belongs in backfill()).',
  )
  const dead = counter(
    'skewless.pipeline.dead_letters',
    '{event}',
    'Events rejected by the pipeline, by reason (DeadLetterCode) and feature.',
  )
  const updates = counter('skewless.pipeline.updates', '{update}', 'Feature updates emitted to the sink.')
  const batches = counter('skewless.pipeline.batches', '{batch}', 'Micro-batches processed.')
  const checkpoints = counter(
    'skewless.pipeline.checkpoints',
    '{checkpoint}',
    'Checkpoints committed or taken.',
  )
  const cpFailures = counter(
    'skewless.pipeline.checkpoint.failures',
    '{checkpoint}',
    'Periodic checkpoints that failed to commit.',
  )
  const lag = tel.observableGauge(
    'skewless.pipeline.watermark.lag',
    's',
    "How far the watermark is behind the pipeline's clock.",
  )
  const cpDuration = tel.durationHistogram(
    'skewless.pipeline.checkpoint.duration',
    'From the snapshot at a batch boundary until the checkpoint was committed.',
  )
  const cpPause = tel.durationHistogram(
    'skewless.pipeline.checkpoint.pause',
    'How long a checkpoint paused the stream (the operator snapshot).',
  )
  // key: reason + '\0' + feature; few distinct values (codes x features).
  const deadBy = keyedCounts()
  const retire = tel.observe(
    [events, late, historic, dead, updates, batches, checkpoints, cpFailures, lag],
    target,
    (t, r) => {
      const m = t.metrics()
      r.observe(events, m.eventsIn, base)
      r.observe(late, m.lateEvents, base)
      r.observe(historic, m.historicEvents, base)
      r.observe(updates, m.updatesOut, base)
      r.observe(batches, m.batches, base)
      r.observe(checkpoints, m.checkpoints, base)
      r.observe(cpFailures, m.checkpointFailures, base)
      deadBy.observe(r, dead)
      if (Number.isFinite(m.watermark)) r.observe(lag, Math.max(0, clock.now() - m.watermark) / 1000, base)
    },
  )
  return {
    deadLetters(list) {
      for (let i = 0; i < list.length; i++) {
        const d = list[i] as DeadLetter<unknown>
        deadBy.add(`${d.reason}\0${d.feature ?? ''}`, () => {
          const attrs: Attributes = { 'skewless.reason': d.reason }
          if (d.feature !== undefined) attrs['skewless.feature'] = d.feature
          return tel.with(attrs)
        })
      }
    },
    checkpoint(pauseMs, commitMs) {
      cpPause.record(pauseMs / 1000, base)
      cpDuration.record(commitMs / 1000, base)
    },
    close: retire,
  }
}
