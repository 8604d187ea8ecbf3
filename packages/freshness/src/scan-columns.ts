import {
  columnData,
  readStringColumn,
  readTimeColumn,
  type StringColumn,
} from '@skewless/offline-log/adapter'
import type { RecordBatch } from 'apache-arrow'

/** The three columns the report reads from a log batch, decoded once per batch. */
export interface AgeColumns {
  entity: StringColumn
  eventTime: Float64Array
  availableTime: Float64Array
}

/** Decode a log batch's entity, event_time and available_time columns. */
export function ageColumns(batch: RecordBatch): AgeColumns {
  return {
    entity: readStringColumn(columnData(batch, 'entity')),
    eventTime: readTimeColumn(columnData(batch, 'event_time')),
    availableTime: readTimeColumn(columnData(batch, 'available_time')),
  }
}

/**
 * Row → index of its entity in `index` (-1 when absent), looking each distinct dictionary value up
 * once per batch rather than once per row.
 */
export function entityIndices(col: StringColumn, n: number, index: ReadonlyMap<string, number>): Int32Array {
  const out = new Int32Array(n)
  if (col.codes) {
    const byCode = new Int32Array(col.values.length)
    for (let c = 0; c < col.values.length; c++) byCode[c] = index.get(col.values[c] as string) ?? -1
    for (let i = 0; i < n; i++) out[i] = byCode[col.codes[i] as number] as number
  } else {
    for (let i = 0; i < n; i++) out[i] = index.get(col.values[i] as string) ?? -1
  }
  return out
}

/** FNV-1a hash of a string, for splitting entities into partitions. */
export function entityHash(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}
