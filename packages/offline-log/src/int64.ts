/**
 * Int64 / Timestamp(ms) columns as safe-integer numbers, through an Int32 view of their memory (no
 * BigInt per value). The helpers are core's (`@skewless/core/internal`), one copy for the log,
 * its adapters and the join; re-exported here for the log's modules and its adapter entry.
 */
export { fromInt64Array, getInt64, int32View, setInt64, toInt64Array } from '@skewless/core/internal'
