/** The Redis store's OpenTelemetry instruments: every call timed as `db.client.operation.duration` with `db.system.name=redis`. */
import { type StoreTelemetry, storeTelemetry as timer } from '@skewless/core/adapter'
import type { RedisStoreOptions } from './types.js'

/** The timer of one Redis store (its `meterProvider` and `metricAttributes`). */
export function storeTelemetry(options: RedisStoreOptions): StoreTelemetry {
  return timer('redis', options, '@skewless/online-redis')
}
