import type { OfflineLog } from '@skewless/offline-log'
import { type ParquetLog, parquetLog } from '@skewless/offline-parquet'
import type { RecordBatch } from 'apache-arrow'
import type { DiscoveredLog } from './types.js'

/**
 * Open a discovered log: read-only (no recovery actions, no lock) unless the command writes. `workers`
 * 0 reads on the calling thread: for commands that only list files, starting decode threads costs more
 * than it saves.
 */
export function openLog(found: DiscoveredLog, writable = false, workers?: number): Promise<ParquetLog> {
  const features: Record<string, DiscoveredLog['features'][number]['valueType']> = {}
  for (const f of found.features) features[f.name] = f.valueType
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
