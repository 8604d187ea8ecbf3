/**
 * OpenTelemetry instruments of the online sink, the reader and the stores (docs/decisions/telemetry.md).
 * The sink's counters are observable (read from its state at collection time); the histograms are
 * recorded once per store call or batch, never per write.
 */
import type { TelemetryOptions } from '@skewless/core'
import { componentTelemetry, keyedCounts } from '@skewless/core/adapter'
import type { OnlineDeadLetter } from './types.js'

const SCOPE = '@skewless/online-sink'

/** What the sink's counters are read from (its state). */
export interface SinkCounters {
  nUpdates: number
  nApplied: number
  nStale: number
  nCoalesced: number
  nRetries: number
  pendingCount: number
  inFlightUpdates: number
  inFlight: number
}

/** What the sink calls where events happen. */
export interface SinkTelemetry {
  /** Dead letters leaving the sink (counted by code). */
  deadLetters(dead: readonly OnlineDeadLetter[]): void
  /** One store batch was answered: the largest `availableTime − eventTime` of its applied writes (ms). */
  batchFreshness(maxAgeMs: number): void
  /** The sink was closed: its final counts are observed once more, then no longer. */
  close(): void
}

/** Instrument an online sink whose counters live in `state`. */
export function sinkTelemetry(
  state: SinkCounters,
  storeName: string,
  options: TelemetryOptions,
): SinkTelemetry {
  const tel = componentTelemetry(SCOPE, options, { 'skewless.store': storeName })
  const base = tel.base
  const applied = tel.with({ 'skewless.outcome': 'applied' })
  const stale = tel.with({ 'skewless.outcome': 'stale' })
  const counter = tel.observableCounter
  const updates = counter('skewless.sink.updates', '{update}', 'Feature updates received by the sink.')
  const writes = counter(
    'skewless.sink.writes',
    '{write}',
    'Writes the store answered, by outcome: applied, or stale (rejected by compare-and-set as older than the stored value).',
  )
  const coalesced = counter(
    'skewless.sink.coalesced',
    '{update}',
    'Updates replaced by a newer update of the same key before they were sent.',
  )
  const retries = counter(
    'skewless.sink.retries',
    '{retry}',
    'Store calls retried after a transient failure.',
  )
  const dead = counter('skewless.sink.dead_letters', '{update}', 'Updates the sink gave up on, by reason.')
  const buffered = tel.observableUpDownCounter(
    'skewless.sink.buffered',
    '{update}',
    'Updates buffered now (pending and in flight).',
  )
  const inFlight = tel.observableUpDownCounter(
    'skewless.sink.batches.in_flight',
    '{batch}',
    'Store batches in flight now.',
  )
  const freshness = tel.durationHistogram(
    'skewless.sink.freshness',
    'Per store batch: the largest availableTime − eventTime of its applied writes (how stale the oldest value it made readable was).',
  )
  const deadBy = keyedCounts()
  const retire = tel.observe(
    [updates, writes, coalesced, retries, dead, buffered, inFlight],
    state,
    (s, r) => {
      r.observe(updates, s.nUpdates, base)
      r.observe(writes, s.nApplied, applied)
      r.observe(writes, s.nStale, stale)
      r.observe(coalesced, s.nCoalesced, base)
      r.observe(retries, s.nRetries, base)
      deadBy.observe(r, dead)
      r.observe(buffered, s.pendingCount + s.inFlightUpdates, base)
      r.observe(inFlight, s.inFlight, base)
    },
  )
  return {
    deadLetters(list) {
      for (let i = 0; i < list.length; i++) {
        const code = (list[i] as OnlineDeadLetter).reason
        deadBy.add(code, () => tel.with({ 'skewless.reason': code }))
      }
    },
    batchFreshness(maxAgeMs) {
      freshness.record(Math.max(0, maxAgeMs) / 1000, base)
    },
    close: retire,
  }
}

/** What the reader records per `get`. */
export interface ReaderTelemetry {
  /** One `get` answered: entities asked, values served and null, and how long it took (ms). */
  get(entities: number, served: number, nulls: number, ms: number): void
}

/** Instrument an online reader. */
export function readerTelemetry(storeName: string, options: TelemetryOptions): ReaderTelemetry {
  const tel = componentTelemetry(SCOPE, options, { 'skewless.store': storeName })
  const base = tel.base
  const served = tel.with({ 'skewless.outcome': 'served' })
  const missing = tel.with({ 'skewless.outcome': 'null' })
  const entities = tel.counter(
    'skewless.reader.entities',
    '{entity}',
    'Entities read (one feature vector each).',
  )
  const values = tel.counter(
    'skewless.reader.values',
    '{value}',
    'Feature values read, by outcome: served, or null (missing, expired by its TTL).',
  )
  const duration = tel.durationHistogram(
    'skewless.reader.duration',
    'Duration of one get() (one store read, TTL filtering, additive sums).',
  )
  return {
    get(n, s, z, ms) {
      entities.add(n, base)
      if (s > 0) values.add(s, served)
      if (z > 0) values.add(z, missing)
      duration.record(ms / 1000, base)
    },
  }
}
