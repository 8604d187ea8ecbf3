/** The as-of join's OpenTelemetry instruments (docs/decisions/telemetry.md): one record per join. */
import type { Attributes } from '@opentelemetry/api'
import type { TelemetryOptions } from '@skewless/core'
import { DURATION_BUCKETS_S, skewlessMeter } from '@skewless/core/adapter'

/** What a join records when it is done. */
export interface JoinTelemetry {
  /** A join produced `rows` output rows (one per label row) from `records` log records read, in `ms`. */
  join(rows: number, records: number, ms: number): void
}

/** The instruments of the as-of join, with the caller's `meterProvider` and `metricAttributes`. */
export function joinTelemetry(options: TelemetryOptions | undefined): JoinTelemetry {
  const meter = skewlessMeter('@skewless/asof-join', options?.meterProvider)
  const base: Attributes = options?.metricAttributes ?? {}
  const joins = meter.createCounter('skewless.join.joins', {
    unit: '{join}',
    description: 'As-of joins run.',
  })
  const rows = meter.createCounter('skewless.join.rows', {
    unit: '{row}',
    description: 'Output rows of as-of joins (one per label row).',
  })
  const records = meter.createCounter('skewless.join.log_records', {
    unit: '{record}',
    description: 'Log records read by as-of joins (over every partition pass).',
  })
  const duration = meter.createHistogram('skewless.join.duration', {
    unit: 's',
    description: 'Duration of one as-of join.',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
  })
  return {
    join(r, n, ms) {
      joins.add(1, base)
      rows.add(r, base)
      records.add(n, base)
      duration.record(ms / 1000, base)
    },
  }
}
