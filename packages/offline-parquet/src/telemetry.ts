/** The Parquet log's OpenTelemetry instruments: the offline log's (commits, rows, bytes, durations, compactions). */
import { type LogTelemetry, logTelemetry } from '@skewless/offline-log/adapter'
import type { ParquetLogOptions } from './types.js'

export type { LogTelemetry }

/** The instruments of one Parquet log (`skewless.log.kind=parquet`). */
export function parquetTelemetry(options: ParquetLogOptions): LogTelemetry {
  return logTelemetry('parquet', options)
}
