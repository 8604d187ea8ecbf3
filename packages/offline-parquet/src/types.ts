import type { OfflineLog, OfflineLogOptions } from '@skewless/offline-log'
import type { CorruptFileError } from './errors.js'
import type { RecoveryReport } from './recovery.js'

/** Which library encodes Parquet files. Reading is always Arrow-native (parquet-wasm), whichever wrote the file. */
export type ParquetEncoder = 'parquet-wasm' | 'parquetjs-lite'

/** Options of `parquetLog`. */
export interface ParquetLogOptions extends OfflineLogOptions {
  /** Root directory of the log (created when missing). */
  dir: string
  /**
   * Encoder. `parquet-wasm` (arrow-rs in WebAssembly) encodes ~20x faster than `parquetjs-lite`,
   * which stays supported (it rejects times before 1970). @default 'parquet-wasm'
   */
  encoder?: ParquetEncoder
  /** Compression codec (parquet-wasm encoder; parquetjs-lite writes uncompressed). @default 'snappy' */
  compression?: 'snappy' | 'zstd' | 'lz4' | 'uncompressed'
  /**
   * Worker threads that encode, write and fsync files (parquet-wasm encoder) and read and decode
   * files for scans, so Parquet work overlaps the main thread and never blocks its event loop.
   * 0 does everything on the calling thread. @default 2
   */
  workers?: number
  /** Maximum rows per file: a partition with more rows in one commit is split into several files. @default 1_000_000 */
  rollRows?: number
  /**
   * Rows a commit takes from the queue (whole appends; at least one). Smaller commits let the next
   * commit's preparation overlap this one's encoding and fsync; larger ones make fewer, larger
   * files. @default 500_000
   */
  maxCommitRows?: number
  /**
   * How long written records may wait for more to join their commit (group-commit linger). 0 commits
   * as soon as the previous commit finished, which already groups every append that arrived during
   * it. A larger value means fewer, larger files and a longer wait for `append`. @default 0
   */
  rollAgeMs?: number
  /**
   * Backpressure of `write()` (the Sink side): while more than this many rows wait for a commit,
   * `write()` returns a promise that resolves when the writer caught up. @default 1_000_000
   */
  maxPendingRows?: number
  /**
   * What `scan`/`stateAt` do with a file that cannot be read (truncated, foreign, not Parquet):
   * `'throw'` a `CorruptFileError` naming it, `'skip'` it (counted in `stats.corruptFilesSkipped`),
   * or call the function with the error and skip it. @default 'throw'
   */
  onCorruptFile?: 'throw' | 'skip' | ((error: CorruptFileError) => void)
  /** Open for reading only: no recovery actions (leftovers are only reported), `append` is refused. @default false */
  readOnly?: boolean
}

/** Counters of a Parquet log (monotonic, this process only). */
export interface ParquetLogStats {
  /** Commits completed (each makes its appends durable). */
  commits: number
  /** Files committed. */
  files: number
  /** Rows committed. */
  rows: number
  /** Bytes of committed files. */
  bytes: number
  /** Unreadable files skipped by scans (with `onCorruptFile` other than 'throw'). */
  corruptFilesSkipped: number
}

/** A Parquet-backed `OfflineLog`. */
export interface ParquetLog extends OfflineLog {
  /** The log's root directory. */
  readonly dir: string
  /** What opening the log found and did after a previous crash. */
  readonly recovery: RecoveryReport
  /** Counters. */
  readonly stats: Readonly<ParquetLogStats>
  /** Paths of the committed files of `features` (all declared features by default), in commit order per feature. */
  listFiles(features?: readonly string[]): Promise<string[]>
}
