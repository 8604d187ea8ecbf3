/**
 * `@skewless/core/adapter`: what the authors of stores, logs, sources, sinks and the other Skewless
 * packages build on, beside the main entry's user API (the role unstorage's `drivers/utils` plays).
 * The rules that decide skew, so every adapter applies them the one way (record order, value types,
 * time reading and storable instants, window tiles); dead-letter counting, summarised logging and
 * progress reports; and the OpenTelemetry helpers every instrumented component registers its
 * instruments with (docs/decisions/telemetry.md). Applications import `@skewless/core`; these names
 * may change between minor versions.
 *
 * @packageDocumentation
 */
export { AGGREGATOR_NAMES, resolveAggregator } from './aggregators.js'
export { CHECKPOINT_FORMAT } from './checkpoint.js'
export { countDeadLetters, type DeadLetterCounts } from './dead-letter-count.js'
export { isReservedFeatureName } from './define-features.js'
export { toFeatureWrite } from './feature-write.js'
export { type ThrottledReporter, throttledReporter } from './log-summary.js'
export { type RateLimitedLoggerOptions, rateLimitedLogger, resolveLogger } from './logger.js'
export {
  looksLikeSeconds,
  SECONDS_LIKE_END,
  SECONDS_LIKE_FROM,
  secondsLikeMessage,
  secondsLikeReason,
} from './parse-time.js'
export { type ProgressReporter, progressReporter } from './progress.js'
export { compareRecord, compareVersion, isNewerVersion } from './record-order.js'
export { isResumableSource } from './resumable-source.js'
export { toBatches } from './sources.js'
export { checkStorableTime, isStorableTime } from './storable-time.js'
export {
  type ComponentTelemetry,
  componentTelemetry,
  DURATION_BUCKETS_S,
  type KeyedCounts,
  keyedCounts,
  observeWeakly,
  SIZE_BUCKETS,
  type StoreTelemetry,
  skewlessMeter,
  storeTelemetry,
  TELEMETRY_VERSION,
  withAttributes,
} from './telemetry.js'
export { checkValueType, describe, fitsValueType, isValueType, VALUE_TYPES } from './value-types.js'
export { inWindowAt, tileExpiry, tileIndex, tilesPerWindow, visibleAt } from './windows.js'
