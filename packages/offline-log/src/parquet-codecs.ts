/**
 * The Parquet compression codecs Skewless writes (the Parquet log's segments and the join's output
 * files), each mapped to the name of its member of parquet-wasm's `Compression` enum: one list, so
 * the log and the join offer the same codecs and mean the same thing by each. This package does not
 * depend on parquet-wasm; writers look the member up: `pw.Compression[PARQUET_CODECS[name]]`.
 */
export const PARQUET_CODECS = {
  snappy: 'SNAPPY',
  zstd: 'ZSTD',
  lz4: 'LZ4_RAW',
  uncompressed: 'UNCOMPRESSED',
} as const

/** A Parquet compression codec Skewless can write: `'snappy'`, `'zstd'`, `'lz4'` (LZ4_RAW) or `'uncompressed'`. */
export type ParquetCompression = keyof typeof PARQUET_CODECS

/** Whether `name` is one of the {@link PARQUET_CODECS} (a check for options from untyped callers). */
export function isParquetCompression(name: unknown): name is ParquetCompression {
  return typeof name === 'string' && Object.hasOwn(PARQUET_CODECS, name)
}
