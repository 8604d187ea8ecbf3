import { rename, rm, writeFile } from 'node:fs/promises'
import { isParquetCompression, PARQUET_CODECS, type ParquetCompression } from '@skewless/offline-log/adapter'
import { type Table, tableToIPC } from 'apache-arrow'
import * as pw from 'parquet-wasm'
import { InvalidOptionError } from './errors.js'

/** Options of `writeParquet`. */
export interface WriteParquetOptions {
  /** Compression codec (the same codecs as the Parquet log's). @default 'snappy' */
  compression?: ParquetCompression
}

/**
 * Write a join result (any Arrow table) to a Parquet file. The file is written under a temporary
 * name in the same directory and renamed when complete, so readers never see a half file.
 * Timestamps stay TIMESTAMP(ms), Int64 stays INT64, Utf8 stays UTF8: DuckDB, Spark and pyarrow read it.
 */
export async function writeParquet(
  table: Table,
  path: string,
  options: WriteParquetOptions = {},
): Promise<void> {
  const compression = options.compression ?? 'snappy'
  if (!isParquetCompression(compression)) {
    throw new InvalidOptionError(
      'compression',
      `compression must be one of ${Object.keys(PARQUET_CODECS)
        .map((c) => `'${c}'`)
        .join(', ')}`,
    )
  }
  const props = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression[PARQUET_CODECS[compression]])
    .build()
  const wasmTable = pw.Table.fromIPCStream(tableToIPC(table, 'stream'))
  const bytes = pw.writeParquet(wasmTable, props)
  const tmp = `${path}.tmp-${process.pid}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`
  try {
    await writeFile(tmp, bytes)
    await rename(tmp, path)
  } catch (cause) {
    await rm(tmp, { force: true })
    throw cause
  }
}
