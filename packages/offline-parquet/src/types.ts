import type { AbortOptions, CommitMarks, Duration, ProgressOptions } from '@skewless/core'
import type { OfflineLog, OfflineLogOptions } from '@skewless/offline-log'
import type { ParquetCompression } from '@skewless/offline-log/adapter'
import type { CorruptFileError, ForeignFileError, MissingFileError } from './errors.js'
import type { FeatureDefinition } from './manifest-format.js'
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
  compression?: ParquetCompression
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
  rollAge?: Duration
  /** @deprecated Use `rollAge` (a `Duration`). */
  rollAgeMs?: number
  /**
   * Backpressure of `write()` (the Sink side): while more than this many rows wait for a commit,
   * `write()` returns a promise that resolves when the writer caught up. @default 1_000_000
   */
  maxPendingRows?: number
  /**
   * What `scan`/`stateAt` do with a damaged file: one that cannot be read (`CorruptFileError`), a
   * committed one that is missing (`MissingFileError`), or one no manifest version lists
   * (`ForeignFileError`): `'throw'` the error naming it, `'skip'` it (counted in
   * `metrics().corruptFilesSkipped`), or call the function with the error and skip it. `compact` always
   * refuses a partition with a missing or foreign file. @default 'throw'
   */
  onCorruptFile?: 'throw' | 'skip' | ((error: CorruptFileError | MissingFileError | ForeignFileError) => void)
  /**
   * Committed files (paths relative to `dir`, as `MissingFileError.path` gives them) that are gone
   * for good: a writable open records their loss in the manifest (scans and compaction then proceed
   * without them), and a commit whose roll-forward needs one of them completes without it. A listed
   * file that exists is left alone. @default []
   */
  acceptLostFiles?: readonly string[]
  /** Manifest versions between two manifest snapshots (opening reads at most this many versions). @default 100 */
  manifestSnapshotEvery?: number
  /** Open for reading only: no recovery actions (leftovers are only reported), `append` is refused. @default false */
  readOnly?: boolean
  /**
   * Lease of the writer lock. The writer refreshes the mtime of `_writer.lock` every
   * `lockLease / 3` while open. A lock whose process cannot be checked from here (a writer on
   * another host sharing the storage, or in another pid namespace of this host, e.g. a container
   * with the host's network or a restarted one) is taken over once it has not been refreshed for
   * longer than the lease (the longer of the lock's own lease and this one). Before each commit the
   * writer checks that the lock is still its own; if not, that commit and every later write fail
   * with `LogLockedError` (`lost: true`). Keep it well above the clock skew between hosts, the
   * storage's mtime resolution and the longest pause (GC, stopped VM) a writer should survive.
   * @default '30s'
   */
  lockLease?: Duration
  /** @deprecated Use `lockLease` (a `Duration`). */
  lockLeaseMs?: number
  /**
   * Let `stateAt` start from the state checkpoints `checkpointState()` wrote (reading only the files
   * they do not cover) instead of every file up to `t`. `false` reads every file, as before: the
   * reference the pruned answer is tested against. @default true
   */
  useStateCheckpoints?: boolean
}

/** Options of `ParquetLog.checkpointState`. */
export interface StateCheckpointOptions extends AbortOptions {
  /** Only these features. @default every declared feature */
  features?: readonly string[]
}

/** What one `checkpointState` call did, per feature. */
export interface StateCheckpointReport {
  features: {
    feature: string
    /** Manifest version the checkpoint covers (every live, renamed file of the feature then). */
    version: number
    /** Data files it covers. */
    files: number
    /** Files read to build it: the ones the previous checkpoint did not cover (all, without one). */
    filesRead: number
    /** Records in it: one per (entity[, tileStart]), the latest of each. */
    rows: number
  }[]
  durationMs: number
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
  /** Partitions compacted (summed over `compact` calls). */
  compactions: number
  /** Manifest snapshots that failed (the commits themselves succeeded; the next commit tries again). */
  manifestSnapshotFailures: number
  /** Data files read and decoded by `scan`, `scanRows`, `stateAt` and `checkpointState` (summed). */
  filesRead: number
}

/** `ParquetLog.metrics()`: the log's counters and its dead letters, as a snapshot. */
export interface ParquetLogMetrics extends ParquetLogStats {
  /** Records rejected to the `deadLetters` output so far. */
  deadLetters: number
  /** The same, per reason (`unknown-feature`, `invalid-value`, `invalid-time`). */
  deadLettersByReason: Record<string, number>
  /** The same counts. @deprecated Read `deadLettersByReason` (the same counts; one name, reason, for the machine-readable reason). */
  deadLettersByCode: Record<string, number>
}

/** What the log records about itself (`ParquetLog.describe`). */
export interface LogDescription {
  /** Every feature definition the log records (of this open and earlier ones), by name. */
  features: FeatureDefinition[]
  /** The last manifest version (-1: a log opened read-only that has no manifest yet). */
  version: number
  /** The marks of the last commit that carried each. */
  marks: CommitMarks
  /** Committed files and rows (`rows` is `null` when a file adopted by the migration to a manifest was not counted). */
  files: number
  rows: number | null
}

/** Options of `ParquetLog.compact`. */
export interface CompactOptions extends AbortOptions, ProgressOptions {
  /** Only these features' partitions. @default every declared feature */
  features?: readonly string[]
  /**
   * Only partitions whose UTC day ends at or before this instant (ms), e.g. `Date.now() - 86_400_000`
   * to leave the days still being written alone. @default Infinity (every day)
   */
  before?: number
  /**
   * Leave a partition alone unless it has at least this many files to merge (full outputs of earlier
   * compactions do not count: they are kept as they are). At least 2. @default 4
   */
  minFiles?: number
  /** Stops the compaction between two partitions (already compacted ones stay compacted); rejects with `AbortedError`. */
  signal?: AbortSignal
}

/** What `ParquetLog.compact` did. */
export interface CompactionReport {
  /** Partitions (`feature=/date=` directories) in which files were merged. */
  partitions: number
  /** Files replaced (deleted after their replacement was committed). */
  filesIn: number
  /** Files written. */
  filesOut: number
  /** Rows rewritten (the same rows, every column preserved). */
  rows: number
  /** Bytes of the replaced files. */
  bytesIn: number
  /** Bytes of the written files. */
  bytesOut: number
  /** Leftovers of an earlier failed compaction found and removed (already ignored by readers). */
  leftoversRemoved: number
  /** Wall-clock duration in milliseconds. */
  durationMs: number
}

/** A Parquet-backed `OfflineLog`. */
export interface ParquetLog extends OfflineLog {
  /** The log's root directory. */
  readonly dir: string
  /** What opening the log found and did after a previous crash. */
  readonly recovery: RecoveryReport
  /**
   * Counters, live (they change as the log works).
   * @deprecated Use `metrics()`, a snapshot of the same counters plus the dead letters.
   */
  readonly stats: Readonly<ParquetLogStats>
  /** A snapshot of the log's counters (commits, files, rows, bytes, reads, compactions) and dead letters. */
  metrics(): ParquetLogMetrics
  /**
   * Paths of the committed files of `features` (all declared features by default) that make up the
   * log now, in name order per partition: files a compaction is replacing are left out, so
   * `read_parquet([...paths])` in DuckDB reads each row once (it fails if a later compaction deleted
   * a listed file before DuckDB opened it: list again and retry).
   * @throws InvalidArgumentError when `features` names a feature the log does not declare.
   */
  listFiles(features?: readonly string[]): Promise<string[]>
  /** What the manifest records: feature definitions, marks, files and rows (a read-only log reads new versions first). */
  describe(): Promise<LogDescription>
  /**
   * Merge the small files of each `feature=/date=` partition into fewer, larger files sorted by
   * (entity, event_time, version, available_time), at most `rollRows` rows each. Every row is kept
   * exactly (all columns). Crash-safe and safe for concurrent readers of this library, in this or
   * other processes: outputs are committed (renamed, directory fsynced) before the inputs are
   * deleted, and their names record which files they replace, so readers (and the next open, after a
   * crash) count either the inputs or the outputs, never both. DuckDB globbing the directory can see
   * both during the short window between the renames and the deletes (see docs/decisions/compaction.md).
   *
   * Appends keep committing while it runs (their files are never replaced by a compaction that began
   * before them); calls to `compact` run one at a time; `close()` waits for a running one. Memory: the
   * rows of one run (about `rollRows` rows) are held as records. Always writes with parquet-wasm
   * (with the log's `compression`), whatever `encoder` the log was opened with: the inputs may hold rows
   * that parquetjs-lite cannot encode (times before 1970, NaN) from a parquet-wasm writer of the directory.
   * @throws ReadOnlyLogError when opened with `readOnly: true`; `ClosedError` after `close()`;
   *   `InvalidArgumentError` for bad options; `CorruptFileError` if an input file is unreadable,
   *   `MissingFileError` / `ForeignFileError` if a partition lacks a committed file or holds one no
   *   manifest version lists (that partition is left as it was, so a loss is never made permanent;
   *   partitions compacted before stay compacted, later ones are not tried); `AbortedError` when
   *   `signal` aborts.
   */
  compact(options?: CompactOptions): Promise<CompactionReport>
  /**
   * Write a state checkpoint per feature (all declared by default): for every (entity[, tileStart]) the
   * record `stateAt` would pick among every row of the feature's live files — the latest, whatever
   * `t` — plus the list of those files and their greatest event and available times. `stateAt(t)`
   * then reads the checkpoint and only the files it does not cover, whenever `t` is at or after those
   * greatest times (on its `by` basis); earlier instants read every file as before. Incremental: a
   * checkpoint is built from the previous one plus the files added since. Stored under
   * `_skewless/state/` (no `.parquet` name: Hive-style globs never see it). A file recorded as lost
   * (`acceptLostFiles`) removes the checkpoints first. See docs/decisions/state-checkpoints.md.
   * @throws ReadOnlyLogError when opened with `readOnly: true`; `ClosedError` after `close()`;
   *   `InvalidArgumentError` for an undeclared feature; the errors of `scan` for damaged files;
   *   `AbortedError` when `signal` aborts (between files and features: the checkpoints already
   *   written stay, the one being built is not written, and `stateAt` reads the files instead).
   */
  checkpointState(options?: StateCheckpointOptions): Promise<StateCheckpointReport>
}
