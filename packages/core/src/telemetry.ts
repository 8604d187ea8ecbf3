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
  type Histogram,
  type Meter,
  type MeterProvider,
  metrics,
  type Observable,
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
  const meter = skewlessMeter(scope, options.meterProvider)
  const duration: Histogram = meter.createHistogram('db.client.operation.duration', {
    unit: 's',
    description: 'Duration of database client operations (one store call: a batch of writes or reads).',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
  })
  return {
    timed(operation, fn) {
      const ok = withAttributes(options.metricAttributes, {
        'db.system.name': system,
        'db.operation.name': operation,
      })
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
