export { entityPartition } from './entity-partition.js'
export {
  AsOfJoinInputError,
  ColumnTypeError,
  EntityTypeMismatchError,
  Int64RangeError,
  InvalidOptionError,
  InvalidTimeError,
  LogClosedError,
  MissingColumnError,
  MissingFeatureError,
  UnsupportedRecordError,
} from './errors.js'
export { asOfJoin, asOfJoinTable } from './join.js'
export { type WriteParquetOptions, writeParquet } from './parquet.js'
export {
  type AuditFeatureConfig,
  type ServedValueRecord,
  type SkewAuditOptions,
  type SkewMismatch,
  type SkewReport,
  skewAudit,
} from './skew-audit.js'
export type * from './types.js'
