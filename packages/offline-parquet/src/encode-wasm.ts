import { PARQUET_CODECS, type ParquetCompression } from '@skewless/offline-log/adapter'
import { makeData, RecordBatch, Schema, Struct, Table, tableToIPC } from 'apache-arrow'
import * as pw from 'parquet-wasm'

/** The batch without its `feature` column: files do not store it, the `feature=` directory does. */
export function withoutFeature(batch: RecordBatch): RecordBatch {
  const keep: number[] = []
  batch.schema.fields.forEach((f, i) => {
    if (f.name !== 'feature') keep.push(i)
  })
  const fields = keep.map((i) => batch.schema.fields[i] as Schema['fields'][number])
  const children = keep.map((i) => batch.data.children[i] as (typeof batch.data.children)[number])
  return new RecordBatch(
    new Schema(fields),
    makeData({ type: new Struct(fields), length: batch.numRows, children }),
  )
}

/**
 * Encode one sorted log batch (without `feature`) as a Parquet file with parquet-wasm (arrow-rs).
 * Arrow Timestamp(ms) without a time zone is written as INT64 with the TIMESTAMP(MILLIS,
 * isAdjustedToUTC=false) logical type, which DuckDB reads as TIMESTAMP; strings are BYTE_ARRAY
 * with the UTF8/STRING logical type. One row group per file, with column statistics, so readers can
 * prune on event_time and entity. Time columns are not dictionary-encoded: they are nearly unique.
 */
export function encodeParquetWasm(
  batch: RecordBatch,
  metadata: Map<string, string>,
  compression: ParquetCompression,
): Uint8Array {
  const ipc = tableToIPC(new Table([batch]), 'stream')
  const table = pw.Table.fromIPCStream(ipc)
  let b = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression[PARQUET_CODECS[compression]])
    .setMaxRowGroupSize(Math.max(1, batch.numRows))
    .setCreatedBy('skewless offline-parquet')
    .setKeyValueMetadata(metadata)
  for (const c of ['event_time', 'available_time', 'tile_start', 'version', 'value_double']) {
    b = b.setColumnDictionaryEnabled(c, false)
  }
  return pw.writeParquet(table, b.build())
}
