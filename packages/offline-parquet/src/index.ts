export { CommitFailedError, CorruptFileError } from './errors.js'
export { parquetLog } from './parquet-log.js'
export type { RecoveryReport } from './recovery.js'
export type * from './types.js'
