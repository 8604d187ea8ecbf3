export type { AbortOptions } from './abort.js'
export * from './aggregators.js'
export { CHECKPOINT_FORMAT, type CheckpointData } from './checkpoint.js'
export type * from './checkpoint-types.js'
export { type ManualClock, manualClock, systemClock } from './clock.js'
export { countDeadLetters, type DeadLetterCounts } from './dead-letter-count.js'
export { toMs } from './duration.js'
export { entityKey, toEntityKey } from './entity-key.js'
export * from './errors.js'
export {
  defineFeatures,
  type FeatureGroup,
  type FeatureGroupSpec,
  type FeatureSpec,
  isReservedFeatureName,
  type ResolvedFeature,
} from './features.js'
export { logCheckpoints } from './log-checkpoints.js'
export { type ThrottledReporter, throttledReporter } from './log-summary.js'
export {
  type RateLimitedLoggerOptions,
  rateLimitedLogger,
  resolveLogger,
  silentLogger,
} from './logger.js'
export {
  looksLikeSeconds,
  parseTime,
  SECONDS_LIKE_END,
  SECONDS_LIKE_FROM,
  secondsLikeMessage,
  secondsLikeReason,
} from './parse-time.js'
export {
  createPipeline,
  type Pipeline,
  type PipelineCheckpoint,
  type PipelineMetricsAccessor,
  type PipelineOperator,
  type PipelineOptions,
  type PipelineResult,
} from './pipeline.js'
export {
  type Progress,
  type ProgressCallback,
  type ProgressOptions,
  type ProgressReporter,
  progressReporter,
} from './progress.js'
export { compareRecord, compareVersion, isNewerVersion } from './record-order.js'
export { toFeatureWrite } from './records.js'
export {
  arraySource,
  isResumableSource,
  type OffsetSourceOptions,
  offsetSource,
} from './resumable-source.js'
export * from './sinks.js'
export { type BatchingOptions, type Source, toBatches } from './sources.js'
export {
  checkStorableTime,
  END_STORABLE_TIME,
  isStorableTime,
  MIN_STORABLE_TIME,
} from './storable-time.js'
export {
  DURATION_BUCKETS_S,
  observeWeakly,
  SIZE_BUCKETS,
  type StoreTelemetry,
  skewlessMeter,
  storeTelemetry,
  TELEMETRY_VERSION,
  type TelemetryOptions,
  withAttributes,
} from './telemetry.js'
export type * from './types.js'
export { checkValueType, describe, fitsValueType, isValueType, VALUE_TYPES } from './value-types.js'
export * from './windows.js'
