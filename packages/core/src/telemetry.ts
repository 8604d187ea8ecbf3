/**
 * OpenTelemetry metrics, shared by every instrumented package: the meter, the `meterProvider`
 * option, bucket advice in seconds, and observable callbacks that read a component's own counters
 * at collection time through a `WeakRef` (a component nobody holds is collected, and its callback
 * unregisters itself). Only `@opentelemetry/api` is imported: without an SDK every call is a no-op.
 * Names, units and attributes: docs/decisions/telemetry.md.
 */
import {
  type Attributes,
  type BatchObservableResult,
  type Counter,
  type Histogram,
  type Meter,
  type MeterProvider,
  metrics,
  type Observable,
  type ObservableCounter,
  type ObservableGauge,
  type ObservableUpDownCounter,
} from '@opentelemetry/api'

/** Options of every instrumented component (pipeline, sink, stores, logs, join, reader). */
export interface TelemetryOptions {
  /**
   * Where the component creates its OpenTelemetry instruments. Skewless depends on the API only:
   * register an SDK (e.g. `@opentelemetry/sdk-metrics` with a Prometheus exporter) to collect them.
   * @default the global MeterProvider (a no-op until an SDK registers one)
   */
  meterProvider?: MeterProvider
  /** Attributes added to every measurement of this component, e.g. `{ 'skewless.worker': '3' }`. */
  metricAttributes?: Attributes
}

/** The version reported as the instrumentation scope's version. */
export const TELEMETRY_VERSION = '0.1.0'

/** The meter of one package (`scope`, e.g. `'@skewless/core'`) from the given or the global provider. */
export function skewlessMeter(scope: string, provider?: MeterProvider): Meter {
  return (provider ?? metrics.getMeterProvider()).getMeter(scope, TELEMETRY_VERSION)
}

/**
 * Histogram bucket boundaries (seconds) for durations from 0.1 ms to 10 min: store calls, commits,
 * checkpoints, joins and feature ages all fall in this range.
 */
export const DURATION_BUCKETS_S: number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
  120, 300, 600,
]

/** Bucket boundaries for sizes (rows of a commit, a join). */
export const SIZE_BUCKETS: number[] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000]

/**
 * Read `target` at every collection: `read` observes its counters. The callback holds `target`
 * weakly: once it was collected the callback is removed. `retire()` (the component was closed)
 * removes it after one more collection, so the final counts are still exported once.
 * @returns retire
 */
export function observeWeakly<T extends object>(
  meter: Meter,
  observables: Observable[],
  target: T,
  read: (target: T, result: BatchObservableResult) => void,
): () => void {
  const ref = new WeakRef(target)
  let retired = false
  let registered = true
  const unregister = () => {
    if (!registered) return
    registered = false
    meter.removeBatchObservableCallback(callback, observables)
  }
  const callback = (result: BatchObservableResult) => {
    const t = ref.deref()
    if (t !== undefined) read(t, result)
    if (t === undefined || retired) unregister()
  }
  meter.addBatchObservableCallback(callback, observables)
  return () => {
    retired = true
  }
}

/** `extra` merged over `base` (the component's `metricAttributes`), without copying when one is empty. */
export function withAttributes(base: Attributes | undefined, extra: Attributes): Attributes {
  return base === undefined ? extra : { ...base, ...extra }
}

/**
 * The instruments of one component (a pipeline, a sink, a reader, a store, a log, a join), created
 * the one way every Skewless component creates them (docs/decisions/telemetry.md): from the meter of
 * its package, with the caller's `metricAttributes` and the component's own attributes on every
 * measurement, durations in seconds with {@link DURATION_BUCKETS_S}, sizes with {@link SIZE_BUCKETS}.
 * Made by {@link componentTelemetry}.
 */
export interface ComponentTelemetry {
  /** The meter of the component's package. */
  readonly meter: Meter
  /** The attributes of every measurement: the caller's `metricAttributes`, then the component's own. */
  readonly base: Attributes
  /** `base` with `extra` merged over it (e.g. an outcome). */
  with(extra: Attributes): Attributes
  /** A counter added to where things happen. */
  counter(name: string, unit: string, description: string): Counter
  /** A counter read from the component's own counts at collection time (see {@link ComponentTelemetry.observe}). */
  observableCounter(name: string, unit: string, description: string): ObservableCounter
  /** A value that goes up and down (a buffer's size), read at collection time. */
  observableUpDownCounter(name: string, unit: string, description: string): ObservableUpDownCounter
  /** A gauge read at collection time (a lag). */
  observableGauge(name: string, unit: string, description: string): ObservableGauge
  /** A histogram of durations, unit `s`, with the duration buckets. */
  durationHistogram(name: string, description: string): Histogram
  /** A histogram of sizes (e.g. unit `{row}`), with the size buckets. */
  sizeHistogram(name: string, unit: string, description: string): Histogram
  /**
   * Read `target` at every collection into `observables`: {@link observeWeakly} on this meter.
   * @returns retire (call when the component is closed)
   */
  observe<T extends object>(
    observables: Observable[],
    target: T,
    read: (target: T, result: BatchObservableResult) => void,
  ): () => void
}

/**
 * The instruments of one component of package `scope` (e.g. `'@skewless/online-sink'`), with the
 * caller's telemetry `options` and the component's own `attributes` (e.g. `{ 'skewless.store': 'redis' }`).
 */
export function componentTelemetry(
  scope: string,
  options: TelemetryOptions | undefined,
  attributes: Attributes = {},
): ComponentTelemetry {
  const meter = skewlessMeter(scope, options?.meterProvider)
  const base = withAttributes(options?.metricAttributes, attributes)
  return {
    meter,
    base,
    with: (extra) => withAttributes(base, extra),
    counter: (name, unit, description) => meter.createCounter(name, { unit, description }),
    observableCounter: (name, unit, description) =>
      meter.createObservableCounter(name, { unit, description }),
    observableUpDownCounter: (name, unit, description) =>
      meter.createObservableUpDownCounter(name, { unit, description }),
    observableGauge: (name, unit, description) => meter.createObservableGauge(name, { unit, description }),
    durationHistogram: (name, description) =>
      meter.createHistogram(name, {
        unit: 's',
        description,
        advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
      }),
    sizeHistogram: (name, unit, description) =>
      meter.createHistogram(name, { unit, description, advice: { explicitBucketBoundaries: SIZE_BUCKETS } }),
    observe: (observables, target, read) => observeWeakly(meter, observables, target, read),
  }
}

/**
 * Counts of events by a key with few distinct values (dead letters by reason, or by reason and
 * feature), kept where the events happen and observed at collection time.
 */
export interface KeyedCounts {
  /** Count one event under `key`; `attributes` makes its attributes the first time `key` is seen. */
  add(key: string, attributes: () => Attributes): void
  /** Observe every count so far on `counter`. */
  observe(result: BatchObservableResult, counter: Observable): void
}

/** An empty {@link KeyedCounts}. */
export function keyedCounts(): KeyedCounts {
  const counts = new Map<string, { attrs: Attributes; n: number }>()
  return {
    add(key, attributes) {
      let e = counts.get(key)
      if (e === undefined) {
        e = { attrs: attributes(), n: 0 }
        counts.set(key, e)
      }
      e.n++
    },
    observe(result, counter) {
      for (const e of counts.values()) result.observe(counter, e.n, e.attrs)
    },
  }
}

/**
 * Times a store's calls as `db.client.operation.duration` (OpenTelemetry database semantic
 * conventions): attributes `db.system.name` and `db.operation.name`, plus `error.type` on failure.
 * For store adapters: wrap each method once, at creation.
 */
export interface StoreTelemetry {
  /** `fn`, timed as operation `operation`. */
  timed<A extends unknown[], R>(operation: string, fn: (...args: A) => Promise<R>): (...args: A) => Promise<R>
}

/** The timer of one store (`system`: e.g. `'redis'`, `'skewless.memory'`; `scope`: the adapter's package). */
export function storeTelemetry(
  system: string,
  options: TelemetryOptions,
  scope = '@skewless/online-sink',
): StoreTelemetry {
  const t = componentTelemetry(scope, options, { 'db.system.name': system })
  const duration: Histogram = t.durationHistogram(
    'db.client.operation.duration',
    'Duration of database client operations (one store call: a batch of writes or reads).',
  )
  return {
    timed(operation, fn) {
      const ok = t.with({ 'db.operation.name': operation })
      return async (...args) => {
        const start = performance.now()
        try {
          const r = await fn(...args)
          duration.record((performance.now() - start) / 1000, ok)
          return r
        } catch (e) {
          const type = (e as { code?: unknown })?.code ?? (e as Error)?.name ?? 'unknown'
          duration.record((performance.now() - start) / 1000, { ...ok, 'error.type': String(type) })
          throw e
        }
      }
    },
  }
}
