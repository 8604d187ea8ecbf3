/**
 * `@skewless/offline-log/adapter`: helpers for writing an `OfflineLog` adapter (the Parquet log
 * uses them) and for reading the log's Arrow batches column by column. Applications import
 * `@skewless/offline-log`; these names may change between minor versions.
 *
 * @packageDocumentation
 */
export { writesToRecordBatch } from './arrow-build.js'
export {
  columnData,
  readStringColumn,
  readTimeColumn,
  type StringColumn,
  stringAt,
} from './arrow-read.js'
export {
  ENTITY_TYPE,
  FEATURE_TYPE,
  LOG_COLUMNS,
  LOG_SCHEMA_FIELDS,
  type LogColumn,
  logSchema,
  OUTCOME_TYPE,
} from './arrow-schema.js'
export { takeRows } from './arrow-take.js'
export { filterBatch, type ResolvedScan, resolveScan } from './batch-filter.js'
export { normalizeFeatureTypes } from './feature-types.js'
export { dropDuplicateIdentities } from './identity.js'
export { fromInt64Array, toInt64Array } from './int64.js'
export {
  checkMarks,
  copyMarks,
  type MarkedTicket,
  MarksGuard,
  mergeMarks,
  serializeMarks,
} from './marks-guard.js'
export { checkInstant } from './memory-log.js'
export { compareWrites, sameIdentity } from './order.js'
export { isParquetCompression, PARQUET_CODECS, type ParquetCompression } from './parquet-codecs.js'
export { stateAtFromBatches } from './state-at.js'
export { type LogTelemetry, logTelemetry } from './telemetry.js'
export { decodeUtf8, utf8Data } from './utf8.js'
export { acceptBatch, checkRecord } from './validate.js'
