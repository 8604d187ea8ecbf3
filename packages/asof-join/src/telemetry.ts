/** The as-of join's OpenTelemetry instruments (docs/decisions/telemetry.md): one record per join. */
import type { TelemetryOptions } from '@skewless/core'
import { componentTelemetry } from '@skewless/core/adapter'

/** What a join records when it is done. */
export interface JoinTelemetry {
  /** A join produced `rows` output rows (one per label row) from `records` log records read, in `ms`. */
  join(rows: number, records: number, ms: number): void
}

/** The instruments of the as-of join, with the caller's `meterProvider` and `metricAttributes`. */
export function joinTelemetry(options: TelemetryOptions | undefined): JoinTelemetry {
  const tel = componentTelemetry('@skewless/asof-join', options)
  const base = tel.base
  const joins = tel.counter('skewless.join.joins', '{join}', 'As-of joins run.')
  const rows = tel.counter('skewless.join.rows', '{row}', 'Output rows of as-of joins (one per label row).')
  const records = tel.counter(
    'skewless.join.log_records',
    '{record}',
    'Log records read by as-of joins (over every partition pass).',
  )
  const duration = tel.durationHistogram('skewless.join.duration', 'Duration of one as-of join.')
  return {
    join(r, n, ms) {
      joins.add(1, base)
      rows.add(r, base)
      records.add(n, base)
      duration.record(ms / 1000, base)
    },
  }
}
