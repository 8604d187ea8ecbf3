/**
 * Int64 / Timestamp(ms) columns as safe-integer numbers, through an Int32 view of their memory (no
 * BigInt per value). The helpers are core's (`internal` in `@skewless/core`), one copy for the log,
 * its adapters and the join; re-exported here for the log's modules and its adapter entry.
 */
import { internal } from '@skewless/core'

export const { fromInt64Array, getInt64, int32View, setInt64, toInt64Array } = internal
