import type { FeatureValue, FeatureWrite } from '@skewless/core'
import { InvalidArgumentError } from '@skewless/core'
import { type Data, DataType, type RecordBatch, type Utf8 } from 'apache-arrow'
import { fromInt64Array, getInt64, int32View } from './int64.js'
import { decodeUtf8 } from './utf8.js'

/** The single `Data` chunk of a batch column, or a clear error when the column is missing. */
export function columnData(batch: RecordBatch, name: string): Data {
  const idx = batch.schema.fields.findIndex((f) => f.name === name)
  if (idx < 0) {
    throw new InvalidArgumentError(
      `offline-log: record batch has no column "${name}"; expected the log layout`,
    )
  }
  return batch.data.children[idx] as Data
}

/** Whether the batch has a column named `name`. */
export function hasColumn(batch: RecordBatch, name: string): boolean {
  return batch.schema.fields.some((f) => f.name === name)
}

/**
 * Decoded values of a string column given as Utf8 or Dictionary<Utf8>. For a dictionary column the
 * dictionary is decoded once and `codes` maps rows to it, which is what filters use to test a value
 * once per distinct string rather than once per row.
 */
export interface StringColumn {
  /** Distinct (dictionary) values, or every row's value for a plain Utf8 column. */
  values: (string | null)[]
  /** Row → index into `values`; `undefined` for a plain Utf8 column (row i is values[i]). */
  codes: Int32Array | Uint32Array | Int16Array | Int8Array | Uint8Array | Uint16Array | undefined
}

/** Read a Utf8 or Dictionary<Utf8> column. */
export function readStringColumn(data: Data): StringColumn {
  if (DataType.isDictionary(data.type)) {
    const dict = data.dictionary
    const values: (string | null)[] = []
    if (dict) for (const d of dict.data) values.push(...decodeUtf8(d as Data<Utf8>))
    return { values, codes: data.values as StringColumn['codes'] }
  }
  return { values: decodeUtf8(data as Data<Utf8>), codes: undefined }
}

/** Value of row `i` of a string column. */
export function stringAt(col: StringColumn, i: number): string | null {
  return col.codes ? (col.values[col.codes[i] as number] ?? null) : (col.values[i] ?? null)
}

/** Read a Timestamp(ms) or Int64 column into plain numbers (nulls read as 0; check validity separately). */
export function readTimeColumn(data: Data): Float64Array {
  return fromInt64Array(data.values as BigInt64Array, new Float64Array(data.length))
}

/** Whether row `i` of a column is non-null. */
export function valid(data: Data, i: number): boolean {
  return data.nullCount === 0 || data.getValid(i)
}

/**
 * Convert a log `RecordBatch` (built by `writesToRecordBatch` or read back from Parquet) into
 * `FeatureWrite` objects. Meant for small reads; the value comes from whichever value column is
 * non-null, and a row with no non-null value column has `value: null`.
 */
export function recordBatchToWrites(batch: RecordBatch): FeatureWrite[] {
  const n = batch.numRows
  const entity = readStringColumn(columnData(batch, 'entity'))
  const feature = readStringColumn(columnData(batch, 'feature'))
  const outcome = readStringColumn(columnData(batch, 'outcome'))
  const ev = readTimeColumn(columnData(batch, 'event_time'))
  const av = readTimeColumn(columnData(batch, 'available_time'))
  const ver = readTimeColumn(columnData(batch, 'version'))
  const dbl = columnData(batch, 'value_double')
  const i64 = columnData(batch, 'value_int64')
  const i64w = int32View(i64.values as BigInt64Array)
  const str = columnData(batch, 'value_string')
  const strs = str.nullCount === n ? undefined : decodeUtf8(str as Data<Utf8>)
  const bool = columnData(batch, 'value_bool')
  const tile = hasColumn(batch, 'tile_start') ? columnData(batch, 'tile_start') : undefined
  const tilew = tile ? int32View(tile.values as BigInt64Array) : undefined
  const out: FeatureWrite[] = new Array(n)
  for (let i = 0; i < n; i++) {
    let value: FeatureValue = null
    if (dbl.nullCount < n && valid(dbl, i)) value = (dbl.values as Float64Array)[i] as number
    else if (i64.nullCount < n && valid(i64, i)) value = getInt64(i64w, i)
    else if (strs !== undefined && strs[i] !== null) value = strs[i] as string
    else if (bool.nullCount < n && valid(bool, i))
      value = ((bool.values[(bool.offset + i) >> 3] as number) & (1 << ((bool.offset + i) & 7))) !== 0
    const w: FeatureWrite = {
      entity: stringAt(entity, i) as string,
      feature: stringAt(feature, i) as string,
      value,
      eventTime: ev[i] as number,
      version: ver[i] as number,
      availableTime: av[i] as number,
      outcome: stringAt(outcome, i) === 'stale' ? 'stale' : 'applied',
    }
    if (tile && tilew && valid(tile, i)) w.tileStart = getInt64(tilew, i)
    out[i] = w
  }
  return out
}
