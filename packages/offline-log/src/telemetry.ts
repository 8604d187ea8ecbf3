/**
 * OpenTelemetry instruments of an offline log (docs/decisions/telemetry.md): one record per commit
 * (an append made durable), never per row. Used by the memory log and by log adapters.
 */
import type { Attributes } from '@opentelemetry/api'
import type { TelemetryOptions } from '@skewless/core'
import { DURATION_BUCKETS_S, SIZE_BUCKETS, skewlessMeter, withAttributes } from '@skewless/core/adapter'

/** What a log records where events happen. */
export interface LogTelemetry {
  /** One commit made `rows` records durable (`bytes` written, 0 when not known) in `ms`. */
  commit(rows: number, bytes: number, ms: number): void
  /** A compaction merged files in `partitions` partitions. */
  compacted(partitions: number): void
}

/** The instruments of one log; `kind` is its `skewless.log.kind` attribute (`memory`, `parquet`). */
export function logTelemetry(kind: string, options: TelemetryOptions): LogTelemetry {
  const meter = skewlessMeter('@skewless/offline-log', options.meterProvider)
  const base: Attributes = withAttributes(options.metricAttributes, { 'skewless.log.kind': kind })
  const commits = meter.createCounter('skewless.log.commits', {
    unit: '{commit}',
    description: 'Commits of the offline log (each makes its appends durable).',
  })
  const rows = meter.createCounter('skewless.log.rows', { unit: '{row}', description: 'Records committed.' })
  const bytes = meter.createCounter('skewless.log.bytes', {
    unit: 'By',
    description: 'Bytes of committed files.',
  })
  const duration = meter.createHistogram('skewless.log.commit.duration', {
    unit: 's',
    description: 'Duration of one commit, from the records taken off the queue until durable.',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
  })
  const size = meter.createHistogram('skewless.log.commit.size', {
    unit: '{row}',
    description: 'Records per commit.',
    advice: { explicitBucketBoundaries: SIZE_BUCKETS },
  })
  const compactions = meter.createCounter('skewless.log.compactions', {
    unit: '{partition}',
    description: 'Partitions whose files a compaction merged.',
  })
  return {
    commit(n, b, ms) {
      commits.add(1, base)
      rows.add(n, base)
      if (b > 0) bytes.add(b, base)
      duration.record(ms / 1000, base)
      size.record(n, base)
    },
    compacted(partitions) {
      if (partitions > 0) compactions.add(partitions, base)
    },
  }
}
