export {
  type ChangelogCommitter,
  type ChangelogCommitterMetrics,
  type ChangelogCommitterOptions,
  changelogCommitter,
  type DrainOptions,
} from './changelog-committer.js'
export {
  DownstreamError,
  SinkAbortedError,
  StoreTimeoutError,
  StoreUnavailableError,
  type StoreUnavailableErrorOptions,
  StoreWriteError,
} from './errors.js'
export { type OnlineFeatureOverride, onlineFeatures } from './feature-config.js'
export { type MemoryStore, type MemoryStoreOptions, memoryStore } from './memory-store.js'
export { onlineSink } from './online-sink.js'
export { onlineReader } from './reader.js'
export type {
  FeatureVector,
  HistogramSnapshot,
  OnlineDeadLetter,
  OnlineFeatureConfig,
  OnlineReader,
  OnlineReaderMetrics,
  OnlineReaderOptions,
  OnlineSink,
  OnlineSinkMetrics,
  OnlineSinkOptions,
  OnlineSinkWaitOptions,
  OnlineStore,
  RetryOptions,
  ServedRecord,
  ServedValue,
  WriteStrategy,
} from './types.js'
