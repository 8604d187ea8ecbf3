/**
 * `@skewless/online-sink/adapter`: what an `OnlineStore` adapter implements and uses (the Redis
 * store uses it): the store-call types, stored entries, the write rules every store shares and retry
 * classification. Stores time their calls with `storeTelemetry` from `@skewless/core/adapter`.
 * Applications import `@skewless/online-sink`; these names may change between minor versions. The
 * conformance suite a store must pass is `onlineStoreSuite` in `@skewless/adapter-tests`.
 *
 * @packageDocumentation
 */
export { isTransientError } from './errors.js'
export { Histogram } from './histogram.js'
export type {
  ApplyOptions,
  ApplyResult,
  ChangelogPage,
  OnlineStoreCapabilities,
  PermanentErrorCode,
  PermanentWriteFailure,
  ReadChangelogOptions,
  StoredEntry,
  StoredTile,
  StoredValue,
} from './types.js'
export { checkValue } from './value-check.js'
