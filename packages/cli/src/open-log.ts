import { join } from 'node:path'
import type { OfflineLog } from '@skewless/offline-log'
import {
  openPartitionedLog,
  type ParquetLog,
  type PartitionedLog,
  parquetLog,
} from '@skewless/offline-parquet'
import type { RecordBatch } from 'apache-arrow'
import { NotALogError } from './errors.js'
import type { DiscoveredLog } from './types.js'

/** What the read-only commands need of a log: one log, or a partitioned one read as one. */
export type ReadableLog = ParquetLog | PartitionedLog

/**
 * Open a discovered log: read-only (no recovery actions, no lock) unless the command writes; a
 * partitioned root (`partition=<n>` logs) opens as one read-only log, and refuses writing. `workers`
 * 0 reads on the calling thread: for commands that only list files, starting decode threads costs more
 * than it saves.
 */
export function openLog(found: DiscoveredLog, writable?: false, workers?: number): Promise<ReadableLog>
export function openLog(found: DiscoveredLog, writable: true, workers?: number): Promise<ParquetLog>
export function openLog(found: DiscoveredLog, writable = false, workers?: number): Promise<ReadableLog> {
  const features: Record<string, DiscoveredLog['features'][number]['valueType']> = {}
  for (const f of found.features) features[f.name] = f.valueType
  if (found.partitions !== undefined) {
    if (writable) {
      return Promise.reject(
        new NotALogError(
          found.dir,
          `a partitioned log (partitions ${found.partitions.join(', ')}) is written by one writer per partition: run the command on each ${join(found.dir, 'partition=<n>')}`,
        ),
      )
    }
    return openPartitionedLog({ root: found.dir, features, ...(workers === undefined ? {} : { workers }) })
  }
  return parquetLog({
    dir: found.dir,
    features,
    readOnly: !writable,
    ...(workers === undefined ? {} : { workers }),
  })
}

/**
 * The same log, with every scanned batch's rows reported to `onRows`: how commands whose library
 * call has no progress callback (the as-of join) still show how far they read.
 */
export function countingLog(log: OfflineLog, onRows: (rows: number) => void): OfflineLog {
  const counted = Object.create(log) as OfflineLog
  counted.scan = async function* scan(options) {
    for await (const batch of log.scan(options)) {
      onRows((batch as RecordBatch).numRows)
      yield batch
    }
  }
  return counted
}
