/**
 * OpenTelemetry instruments of the online sink, the reader and the stores (docs/decisions/telemetry.md).
 * The sink's counters are observable (read from its state at collection time); the histograms are
 * recorded once per store call or batch, never per write.
 */
import type { Attributes } from '@opentelemetry/api'
import type { TelemetryOptions } from '@skewless/core'
import { DURATION_BUCKETS_S, observeWeakly, skewlessMeter, withAttributes } from '@skewless/core/adapter'
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
  const meter = skewlessMeter(SCOPE, options.meterProvider)
  const base = withAttributes(options.metricAttributes, { 'skewless.store': storeName })
  const applied = withAttributes(base, { 'skewless.outcome': 'applied' })
  const stale = withAttributes(base, { 'skewless.outcome': 'stale' })
  const counter = (name: string, unit: string, description: string) =>
    meter.createObservableCounter(name, { unit, description })
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
  const buffered = meter.createObservableUpDownCounter('skewless.sink.buffered', {
    unit: '{update}',
    description: 'Updates buffered now (pending and in flight).',
  })
  const inFlight = meter.createObservableUpDownCounter('skewless.sink.batches.in_flight', {
    unit: '{batch}',
    description: 'Store batches in flight now.',
  })
  const freshness = meter.createHistogram('skewless.sink.freshness', {
    unit: 's',
    description:
      'Per store batch: the largest availableTime − eventTime of its applied writes (how stale the oldest value it made readable was).',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
  })
  const deadBy = new Map<string, { attrs: Attributes; n: number }>()
  const retire = observeWeakly(
    meter,
    [updates, writes, coalesced, retries, dead, buffered, inFlight],
    state,
    (s, r) => {
      r.observe(updates, s.nUpdates, base)
      r.observe(writes, s.nApplied, applied)
      r.observe(writes, s.nStale, stale)
      r.observe(coalesced, s.nCoalesced, base)
      r.observe(retries, s.nRetries, base)
      for (const d of deadBy.values()) r.observe(dead, d.n, d.attrs)
      r.observe(buffered, s.pendingCount + s.inFlightUpdates, base)
      r.observe(inFlight, s.inFlight, base)
    },
  )
  return {
    deadLetters(list) {
      for (let i = 0; i < list.length; i++) {
        const code = (list[i] as OnlineDeadLetter).code
        let e = deadBy.get(code)
        if (e === undefined) {
          e = { attrs: withAttributes(base, { 'skewless.reason': code }), n: 0 }
          deadBy.set(code, e)
        }
        e.n++
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
  const meter = skewlessMeter(SCOPE, options.meterProvider)
  const base = withAttributes(options.metricAttributes, { 'skewless.store': storeName })
  const served = withAttributes(base, { 'skewless.outcome': 'served' })
  const missing = withAttributes(base, { 'skewless.outcome': 'null' })
  const entities = meter.createCounter('skewless.reader.entities', {
    unit: '{entity}',
    description: 'Entities read (one feature vector each).',
  })
  const values = meter.createCounter('skewless.reader.values', {
    unit: '{value}',
    description: 'Feature values read, by outcome: served, or null (missing, expired by its TTL).',
  })
  const duration = meter.createHistogram('skewless.reader.duration', {
    unit: 's',
    description: 'Duration of one get() (one store read, TTL filtering, additive sums).',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
  })
  return {
    get(n, s, z, ms) {
      entities.add(n, base)
      if (s > 0) values.add(s, served)
      if (z > 0) values.add(z, missing)
      duration.record(ms / 1000, base)
    },
  }
}

// Stores time their calls with core's `storeTelemetry` (re-exported for store adapters).
export { type StoreTelemetry, storeTelemetry } from '@skewless/core/adapter'
