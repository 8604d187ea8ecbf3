export {
  CommitFailedError,
  CorruptFileError,
  CorruptJournalError,
  LogLockedError,
  ReadOnlyLogError,
  UnstableListingError,
} from './errors.js'
export { parquetLog } from './parquet-log.js'
export type { RecoveryReport } from './recovery.js'
export type * from './types.js'
export { LOCK_FILE } from './writer-lock.js'
