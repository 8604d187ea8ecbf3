import { InvalidArgumentError } from '@skewless/core'
import { type Data, DataType, type RecordBatch } from 'apache-arrow'
import { columnData, readStringColumn, readTimeColumn } from './arrow-read.js'
import { takeRows } from './arrow-take.js'
import type { FeatureTypes, ScanOptions } from './types.js'

/** Scan options resolved once per scan: sets instead of arrays, defaults applied. */
export interface ResolvedScan {
  features: ReadonlySet<string>
  entities: ReadonlySet<string> | undefined
  from: number
  to: number
  by: 'event' | 'available'
  includeStale: boolean
}

/**
 * Check `ScanOptions` / `StateAtOptions` and apply their defaults. Naming a feature the log does not
 * declare is an error (a typo would otherwise read as "no data").
 */
export function resolveScan(
  options: ScanOptions,
  featureTypes: Readonly<FeatureTypes>,
  what = 'scan',
): ResolvedScan {
  if (options === null || typeof options !== 'object' || !Array.isArray(options.features)) {
    throw new InvalidArgumentError(
      `offline-log: offline-log ${what}: options.features must be an array of feature names`,
    )
  }
  for (const f of options.features) {
    if (typeof f !== 'string' || featureTypes[f] === undefined) {
      throw new InvalidArgumentError(
        `offline-log: offline-log ${what}: feature ${JSON.stringify(f)} is not declared in the log's \`features\``,
      )
    }
  }
  if (options.entities !== undefined && !Array.isArray(options.entities)) {
    throw new InvalidArgumentError(
      `offline-log: offline-log ${what}: options.entities must be an array of entity keys`,
    )
  }
  for (const k of ['from', 'to'] as const) {
    const v = options[k]
    if (v !== undefined && (typeof v !== 'number' || Number.isNaN(v))) {
      throw new InvalidArgumentError(
        `offline-log: offline-log ${what}: options.${k} must be a number of ms, got ${String(v)}`,
      )
    }
  }
  if (options.by !== undefined && options.by !== 'event' && options.by !== 'available') {
    throw new InvalidArgumentError(
      `offline-log: offline-log ${what}: options.by must be 'event' or 'available'`,
    )
  }
  return {
    features: new Set(options.features),
    entities: options.entities ? new Set(options.entities) : undefined,
    from: options.from ?? Number.NEGATIVE_INFINITY,
    to: options.to ?? Number.POSITIVE_INFINITY,
    by: options.by ?? 'event',
    includeStale: options.includeStale ?? false,
  }
}

/** A per-code (or per-row) keep flag for a string column tested against a set. */
function stringMask(data: Data, set: ReadonlySet<string>): (row: number) => boolean {
  const col = readStringColumn(data)
  if (col.codes) {
    const keep = new Uint8Array(col.values.length)
    for (let c = 0; c < col.values.length; c++) keep[c] = set.has(col.values[c] as string) ? 1 : 0
    const codes = col.codes
    return (row) => keep[codes[row] as number] === 1
  }
  const values = col.values
  return (row) => set.has(values[row] as string)
}

/**
 * Keep the rows of a log batch that match a scan: `null` when none match, the same batch when all
 * do (no copy), otherwise a new batch of the matching rows in their original order (so a sorted
 * batch stays sorted). `checkFeatures: false` skips the feature test when the caller knows the
 * batch holds only requested features (e.g. a Parquet file of one feature).
 */
export function filterBatch(
  batch: RecordBatch,
  scan: ResolvedScan,
  checkFeatures = true,
): RecordBatch | null {
  const n = batch.numRows
  if (n === 0) return null
  const tests: ((row: number) => boolean)[] = []
  if (checkFeatures) tests.push(stringMask(columnData(batch, 'feature'), scan.features))
  if (scan.entities) tests.push(stringMask(columnData(batch, 'entity'), scan.entities))
  if (!scan.includeStale) {
    const outcome = columnData(batch, 'outcome')
    // A dictionary without 'stale' (the usual case for a Parquet segment) needs no per-row test.
    const dict = DataType.isDictionary(outcome.type) ? readStringColumn(outcome).values : undefined
    if (dict === undefined || dict.includes('stale')) {
      const isStale = stringMask(outcome, new Set(['stale']))
      tests.push((row) => !isStale(row))
    }
  }
  let times: Float64Array | undefined
  const bounded = scan.from > Number.NEGATIVE_INFINITY || scan.to < Number.POSITIVE_INFINITY
  if (!bounded && tests.length === 0) return batch
  if (bounded)
    times = readTimeColumn(columnData(batch, scan.by === 'event' ? 'event_time' : 'available_time'))
  const keep = new Int32Array(n)
  let k = 0
  const { from, to } = scan
  outer: for (let i = 0; i < n; i++) {
    if (times !== undefined) {
      const t = times[i] as number
      if (t < from || t >= to) continue
    }
    for (let j = 0; j < tests.length; j++) if (!(tests[j] as (row: number) => boolean)(i)) continue outer
    keep[k++] = i
  }
  if (k === n) return batch
  if (k === 0) return null
  return takeRows(batch, keep.subarray(0, k))
}
