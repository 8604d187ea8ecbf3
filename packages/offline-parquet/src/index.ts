export {
  CommitFailedError,
  CorruptFileError,
  CorruptJournalError,
  CorruptManifestError,
  DefinitionChangedError,
  ForeignFileError,
  LogLockedError,
  LogUnwritableError,
  MissingFileError,
  ReadOnlyLogError,
  RollForwardError,
  UnstableListingError,
} from './errors.js'
export type { FeatureDefinition, FileEntry, ManifestSnapshot, ManifestVersion } from './manifest-format.js'
export { parquetLog } from './parquet-log.js'
export {
  openPartitionedLog,
  type PartitionedLog,
  type PartitionedLogOptions,
} from './partitioned-log.js'
export type { RecoveryReport } from './recovery.js'
export type * from './types.js'
export { LOCK_FILE } from './writer-lock.js'
