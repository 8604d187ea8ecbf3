/**
 * Skewless metrics for Prometheus. The library depends on the OpenTelemetry API only; the
 * application picks the SDK and the exporter. Here: `@opentelemetry/sdk-metrics` with the Prometheus
 * exporter as its reader, given to every component as `meterProvider` (calling
 * `metrics.setGlobalMeterProvider(provider)` instead would instrument them without the option).
 *
 *   events ─► pipeline ─► online sink ─► Redis          GET /metrics  ◄── Prometheus
 *                              │                              ▲
 *                              ▼                              │ one MeterProvider
 *                      Parquet offline log ───────────────────┘
 */
import type { MeterProvider as ApiMeterProvider } from '@opentelemetry/api'
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
import { MeterProvider } from '@opentelemetry/sdk-metrics'
import {
  collectingSink,
  count,
  createPipeline,
  type DeadLetter,
  defineFeatures,
  hopping,
  type PipelineMetrics,
  sum,
} from '@skewless/core'
import { type ParquetLog, parquetLog } from '@skewless/offline-parquet'
import { redisStore } from '@skewless/online-redis'
import { type OnlineSinkMetrics, onlineFeatures, onlineReader, onlineSink } from '@skewless/online-sink'

/** One event of the stream. */
export interface Purchase {
  user: string
  ts: unknown
  amount: number
}

/** What the demo needs. */
export interface MetricsDemoOptions {
  /** The Redis server, e.g. `redis://127.0.0.1:6379`. */
  redisUrl: string
  /** Where the Parquet feature log goes. */
  logDir: string
  /** HTTP port of the `/metrics` endpoint (Prometheus' default for this exporter is 9464). */
  port: number
  /** The events to process. */
  events: Purchase[]
  /** Host the endpoint listens on. @default '127.0.0.1' */
  host?: string
}

/** A finished run whose metrics are still served. */
export interface MetricsDemo {
  /** `http://<host>:<port>/metrics` */
  metricsUrl: string
  /** What the components counted themselves, to compare with the scrape. */
  counts: {
    pipeline: PipelineMetrics
    sink: OnlineSinkMetrics
    logRows: number
    logCommits: number
    served: number
  }
  /** The provider every component was given. */
  meterProvider: ApiMeterProvider
  /** Stop serving metrics, close the log and the store. */
  close(): Promise<void>
}

export const group = defineFeatures<Purchase>({
  entity: (e) => e.user,
  eventTime: (e) => e.ts,
  features: {
    purchases_1h: { window: hopping('1h', '5m'), aggregate: count() },
    spend_1h: { window: hopping('1h', '5m'), aggregate: sum(), value: (e) => e.amount },
  },
})

/** Run the pipeline over `events` into Redis and the log, read a few vectors, serve the metrics. */
export async function runMetricsDemo(o: MetricsDemoOptions): Promise<MetricsDemo> {
  const host = o.host ?? '127.0.0.1'
  const exporter = new PrometheusExporter({ host, port: o.port, preventServerStart: true })
  await exporter.startServer()
  const meterProvider = new MeterProvider({ readers: [exporter] })
  const telemetry = { meterProvider, metricAttributes: { 'service.instance.id': 'demo-1' } }

  const features = onlineFeatures(group.describe())
  const store = redisStore({ url: o.redisUrl, prefix: `demo${process.pid}:`, ...telemetry })
  let log: ParquetLog | undefined
  try {
    log = await parquetLog({ dir: o.logDir, features: group.describe(), ...telemetry })
    const sink = onlineSink({ store, features, downstream: log, ...telemetry })
    const pipeline = createPipeline<Purchase>({
      source: o.events,
      features: group,
      sink,
      deadLetters: collectingSink<DeadLetter<Purchase>>(),
      logger: false,
      ...telemetry,
    })
    await pipeline.run()
    // Serve a few vectors, as an inference service would.
    const reader = onlineReader({ store, features, ...telemetry })
    const users = [...new Set(o.events.map((e) => e.user))].slice(0, 5)
    let served = 0
    for (const u of users) {
      const [v] = await reader.get([u], ['purchases_1h', 'spend_1h'])
      if (v?.values.purchases_1h != null) served++
    }
    const counts = {
      pipeline: pipeline.metrics(),
      sink: sink.metrics(),
      logRows: log.metrics().rows,
      logCommits: log.metrics().commits,
      served,
    }
    await pipeline.close()
    const opened = log
    return {
      metricsUrl: `http://${host}:${o.port}/metrics`,
      counts,
      meterProvider,
      async close() {
        await meterProvider.shutdown() // stops the exporter's server too
        await opened.close()
        await store.close()
      },
    }
  } catch (e) {
    await meterProvider.shutdown()
    await log?.close()
    await store.close()
    throw e
  }
}

/** A stream of `n` purchases over `users` users, one every 2 s ending a minute ago, plus `bad` malformed ones. */
export function purchases(
  n: number,
  users: number,
  bad: number,
  start = Date.now() - n * 2000 - 60_000,
): Purchase[] {
  const out: Purchase[] = []
  for (let i = 0; i < n; i++)
    out.push({ user: `u${(i * 7) % users}`, ts: start + i * 2000, amount: (i % 13) + 0.5 })
  for (let i = 0; i < bad; i++) out.push({ user: `u${i}`, ts: 'yesterday', amount: 1 })
  return out
}
