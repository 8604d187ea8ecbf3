export {
  type ChangelogCommitter,
  type ChangelogCommitterMetrics,
  type ChangelogCommitterOptions,
  changelogCommitter,
  type DrainOptions,
} from './changelog-committer.js'
export {
  DownstreamError,
  isTransientError,
  SinkAbortedError,
  StoreTimeoutError,
  StoreUnavailableError,
  type StoreUnavailableErrorOptions,
  StoreWriteError,
} from './errors.js'
export { isNewer, onlineFeatures } from './feature-config.js'
export { Histogram } from './histogram.js'
export { type MemoryStore, type MemoryStoreOptions, memoryStore } from './memory-store.js'
export { onlineSink } from './online-sink.js'
export { onlineReader } from './reader.js'
export { type StoreTelemetry, storeTelemetry } from './telemetry.js'
export type * from './types.js'
export { checkValue } from './value-check.js'
