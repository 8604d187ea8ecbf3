export type { AbortOptions } from './abort.js'
export {
  type AggregatorDefinition,
  aggregator,
  count,
  distinctCount,
  type LastAcc,
  last,
  max,
  mean,
  min,
  type NumericType,
  sum,
} from './aggregators.js'
export type { CheckpointData } from './checkpoint.js'
export type * from './checkpoint-types.js'
export { type ManualClock, manualClock, systemClock } from './clock.js'
export {
  defineFeatures,
  type FeatureGroup,
  type FeatureGroupSpec,
  type FeatureSpec,
  type ResolvedFeature,
} from './define-features.js'
export { toMs } from './duration.js'
export { entityKey, toEntityKey } from './entity-key.js'
export * from './errors.js'
export { logCheckpoints } from './log-checkpoints.js'
export { silentLogger } from './logger.js'
export { parseTime } from './parse-time.js'
export {
  createPipeline,
  type Pipeline,
  type PipelineCheckpoint,
  type PipelineMetricsAccessor,
  type PipelineOperator,
  type PipelineOptions,
  type PipelineResult,
} from './pipeline.js'
export type {
  Progress,
  ProgressCallback,
  ProgressOptions,
} from './progress.js'
export {
  arraySource,
  type OffsetSourceOptions,
  offsetSource,
} from './resumable-source.js'
export * from './sinks.js'
export type { BatchingOptions, Source } from './sources.js'
export { END_STORABLE_TIME, MIN_STORABLE_TIME } from './storable-time.js'
export type { TelemetryOptions } from './telemetry.js'
export type * from './types.js'
export {
  hopping,
  session,
  type TimeInterval,
  tileStart,
  tumbling,
  unbounded,
  windowAt,
} from './windows.js'
