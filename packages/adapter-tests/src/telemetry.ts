/**
 * A real OpenTelemetry SDK MeterProvider for tests: pass `provider` as a component's `meterProvider`,
 * then `collect()` what it measured, flattened to one row per data point.
 */
import type { MeterProvider as ApiMeterProvider, Attributes } from '@opentelemetry/api'
import { DataPointType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'

class PullReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** One data point of a collection. */
export interface MetricPoint {
  /** Instrument name, e.g. `skewless.pipeline.events`. */
  name: string
  /** Instrument unit, e.g. `{event}` or `s`. */
  unit: string
  /** The instrumentation scope (package), e.g. `@skewless/core`. */
  scope: string
  attributes: Attributes
  /** Sums and gauges: the value. Histograms: the sum of the recorded values. */
  value: number
  /** Histograms: how many values were recorded. */
  count?: number
  /** Histograms: the smallest and largest recorded value. */
  min?: number
  max?: number
}

/** A MeterProvider backed by the SDK, and what it collected. */
export interface TestMeter {
  provider: ApiMeterProvider
  /** Collect every instrument now (observable callbacks run). */
  collect(): Promise<MetricPoint[]>
  shutdown(): Promise<void>
}

/** Create a test meter provider (cumulative temporality, like Prometheus). */
export function testMeter(): TestMeter {
  const reader = new PullReader()
  const provider = new MeterProvider({ readers: [reader] })
  return {
    provider,
    async collect() {
      const { resourceMetrics, errors } = await reader.collect()
      if (errors.length > 0) throw errors[0]
      const out: MetricPoint[] = []
      for (const sm of resourceMetrics.scopeMetrics) {
        for (const m of sm.metrics) {
          for (const p of m.dataPoints) {
            const base = {
              name: m.descriptor.name,
              unit: m.descriptor.unit,
              scope: sm.scope.name,
              attributes: p.attributes,
            }
            if (m.dataPointType === DataPointType.HISTOGRAM) {
              const h = p.value as { sum?: number; count: number; min?: number; max?: number }
              out.push({
                ...base,
                value: h.sum ?? 0,
                count: h.count,
                ...(h.min === undefined ? {} : { min: h.min }),
                ...(h.max === undefined ? {} : { max: h.max }),
              })
            } else out.push({ ...base, value: p.value as number })
          }
        }
      }
      return out
    },
    shutdown: () => provider.shutdown(),
  }
}

/** The points named `name` whose attributes include `where`. */
export function pointsOf(
  points: readonly MetricPoint[],
  name: string,
  where: Attributes = {},
): MetricPoint[] {
  return points.filter(
    (p) => p.name === name && Object.entries(where).every(([k, v]) => p.attributes[k] === v),
  )
}

/** The sum of the values of `pointsOf(points, name, where)`; throws when there is none (the instrument is missing). */
export function metricValue(points: readonly MetricPoint[], name: string, where: Attributes = {}): number {
  const ps = pointsOf(points, name, where)
  if (ps.length === 0) {
    const names = [...new Set(points.map((p) => p.name))].sort().join(', ')
    throw new Error(`no data point ${name} ${JSON.stringify(where)}; collected: ${names}`)
  }
  return ps.reduce((s, p) => s + p.value, 0)
}
