import type { FeatureWrite } from '@skewless/core'
import type { ParquetLog } from '../src/types.js'

/** One row as a string that tells every column apart (-0 from 0, NaN, null, a missing tileStart). */
export function rowKey(r: FeatureWrite): string {
  const v = r.value
  const value = typeof v === 'number' ? (Object.is(v, -0) ? '-0' : String(v)) : JSON.stringify(v)
  return [
    r.feature,
    JSON.stringify(r.entity),
    typeof v,
    value,
    r.eventTime,
    r.version,
    r.availableTime,
    r.outcome,
    r.tileStart ?? '-',
  ].join('|')
}

/** The sorted multiset of rows. */
export function multiset(rows: readonly FeatureWrite[]): string[] {
  return rows.map(rowKey).sort()
}

/** Every row of the log (stale ones too), as a sorted multiset. */
export async function logRows(log: ParquetLog, features = Object.keys(log.featureTypes)): Promise<string[]> {
  const out: FeatureWrite[] = []
  for await (const rows of log.scanRows({ features, includeStale: true })) for (const r of rows) out.push(r)
  return multiset(out)
}
