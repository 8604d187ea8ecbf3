/**
 * OpenTelemetry instruments of an offline log (docs/decisions/telemetry.md): one record per commit
 * (an append made durable), never per row. Used by the memory log and by log adapters.
 */
import type { TelemetryOptions } from '@skewless/core'
import { componentTelemetry } from '@skewless/core/adapter'

/** What a log records where events happen. */
export interface LogTelemetry {
  /** One commit made `rows` records durable (`bytes` written, 0 when not known) in `ms`. */
  commit(rows: number, bytes: number, ms: number): void
  /** A compaction merged files in `partitions` partitions. */
  compacted(partitions: number): void
}

/** The instruments of one log; `kind` is its `skewless.log.kind` attribute (`memory`, `parquet`). */
export function logTelemetry(kind: string, options: TelemetryOptions): LogTelemetry {
  const tel = componentTelemetry('@skewless/offline-log', options, { 'skewless.log.kind': kind })
  const base = tel.base
  const commits = tel.counter(
    'skewless.log.commits',
    '{commit}',
    'Commits of the offline log (each makes its appends durable).',
  )
  const rows = tel.counter('skewless.log.rows', '{row}', 'Records committed.')
  const bytes = tel.counter('skewless.log.bytes', 'By', 'Bytes of committed files.')
  const duration = tel.durationHistogram(
    'skewless.log.commit.duration',
    'Duration of one commit, from the records taken off the queue until durable.',
  )
  const size = tel.sizeHistogram('skewless.log.commit.size', '{row}', 'Records per commit.')
  const compactions = tel.counter(
    'skewless.log.compactions',
    '{partition}',
    'Partitions whose files a compaction merged.',
  )
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
