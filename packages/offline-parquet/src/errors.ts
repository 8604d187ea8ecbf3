import { SkewlessError, type SkewlessErrorOptions } from '@skewless/core'
import { errorMessage } from '@skewless/core/internal'

/** Where each error of this package is explained, with what to do. */
const README = { readme: 'offline-parquet' }

/**
 * A `.parquet` file under the log directory could not be read as a log segment: truncated, torn by
 * something other than this library, foreign (another schema), or not Parquet at all. The rest of
 * the log stays readable: pass `onCorruptFile: 'skip'` (or a callback) to read around it.
 */
export class CorruptFileError extends SkewlessError {
  /** Always `'corrupt-file'`. */
  declare readonly code: 'corrupt-file'
  /** Absolute path of the offending file. */
  readonly file: string

  constructor(file: string, detail: string, options?: SkewlessErrorOptions) {
    super(
      'corrupt-file',
      errorMessage(
        'offline-parquet',
        `cannot read log file ${file}: ${detail}; move or delete it, or open with onCorruptFile: 'skip'`,
        README,
      ),
      options,
    )
    this.file = file
  }
}

/**
 * A commit journal (`_journal/commit-….json`) cannot be read. Code `'corrupt-journal'`. A journal is
 * written in full and fsynced before it gets its `.json` name, so this is damage from outside the
 * library, not a crash. It stands for a commit whose files are written but maybe not all renamed into
 * place, so a writable open refuses rather than guess: rolling the commit back could leave part of it
 * visible, and a wrong roll-forward could rename the wrong files. `readOnly` opens still work.
 */
export class CorruptJournalError extends SkewlessError {
  /** Always `'corrupt-journal'`. */
  declare readonly code: 'corrupt-journal'
  /** Absolute path of the journal. */
  readonly file: string

  constructor(file: string, detail: string, options?: SkewlessErrorOptions) {
    super(
      'corrupt-journal',
      errorMessage(
        'offline-parquet',
        `cannot read the commit journal ${file}: ${detail}; restore it from a backup, or delete it`,
        README,
      ),
      options,
    )
    this.file = file
  }
}

/** Writing a segment failed (disk full, permissions, encoder error). The append that waited on it rejects. */
export class CommitFailedError extends SkewlessError {
  /** Always `'commit-failed'`. */
  declare readonly code: 'commit-failed'
  constructor(message: string, options?: SkewlessErrorOptions) {
    super('commit-failed', errorMessage('offline-parquet', message), options)
  }
}

/**
 * Another writer holds the log directory. Code `'log-locked'`. Give each writer its own directory
 * (e.g. `root/partition=<n>`), open with `readOnly: true` to read, or — only if that writer is gone
 * for good — delete `_writer.lock` (a lock it stopped refreshing is taken over after `lockLeaseMs`).
 *
 * With `lost: true`, thrown by an open writer instead: its lock was taken over by another writer
 * (this one stopped refreshing it for longer than the lease, e.g. paused or cut off from the
 * storage) or removed. The commit that found out wrote nothing visible, and the log refuses every
 * later write; close it and open the log again.
 */
export class LogLockedError extends SkewlessError {
  /** Always `'log-locked'`. */
  declare readonly code: 'log-locked'
  /** The log directory. */
  readonly dir: string
  /** `true`: this writer held the lock and lost it. */
  readonly lost: boolean

  constructor(dir: string, holder: string, options?: SkewlessErrorOptions & { lost?: boolean }) {
    super(
      'log-locked',
      options?.lost
        ? errorMessage(
            'offline-parquet',
            `this writer lost the lock of ${dir} (now: ${holder}) and writes nothing more: close the log and open it again`,
            README,
          )
        : errorMessage('offline-parquet', `${dir} is open for writing by another writer (${holder})`, README),
      options,
    )
    this.dir = dir
    this.lost = options?.lost ?? false
  }
}

/**
 * A partition directory changed under a reader in a way it cannot read around: every attempt to list
 * it found a compaction swapping its files, or (in a partition of more than `MAX_PINNED` files, which
 * are not all pinned) a compaction deleted a listed file before the scan reached it. Code
 * `'unstable-listing'`. Nothing wrong was returned; retry the read (after compacting, partitions are small).
 */
export class UnstableListingError extends SkewlessError {
  /** Always `'unstable-listing'`. */
  declare readonly code: 'unstable-listing'
  /** The partition directory. */
  readonly dir: string

  constructor(dir: string, detail: string, options?: SkewlessErrorOptions) {
    super(
      'unstable-listing',
      errorMessage('offline-parquet', `${dir} changed while being read: ${detail}; retry the read`),
      options,
    )
    this.dir = dir
  }
}

/** The log was opened with `readOnly: true` and cannot write (append, write, compact). Code `'read-only'`. */
export class ReadOnlyLogError extends SkewlessError {
  /** Always `'read-only'`. */
  declare readonly code: 'read-only'
  constructor(what: string, options?: SkewlessErrorOptions) {
    super(
      'read-only',
      errorMessage(
        'offline-parquet',
        `${what} needs a writable log, but this one was opened with readOnly: true`,
        README,
      ),
      options,
    )
  }
}

/**
 * A manifest file (`_skewless/manifest/…`) cannot be read, or the versions have a gap. Code
 * `'corrupt-manifest'`. Manifest files are written whole and fsynced before the commit is
 * acknowledged, so this is damage from outside the library. Restore the file from a backup; a
 * `readOnly` open of a log without a readable manifest is not possible either, since the manifest
 * says which files are the log.
 */
export class CorruptManifestError extends SkewlessError {
  /** Always `'corrupt-manifest'`. */
  declare readonly code: 'corrupt-manifest'
  /** Absolute path of the manifest file (or directory, for a gap). */
  readonly file: string

  constructor(file: string, detail: string, options?: SkewlessErrorOptions) {
    super(
      'corrupt-manifest',
      errorMessage(
        'offline-parquet',
        `cannot read the log manifest ${file}: ${detail}; restore it from a backup`,
        README,
      ),
      options,
    )
    this.file = file
  }
}

/**
 * A file the manifest lists as committed is not on disk (deleted or moved by hand, lost by the
 * storage). Code `'missing-file'`. Its rows are not in the log, so scans, `stateAt` and `compact`
 * refuse to answer as if they were (compaction would make the loss permanent). Restore the file
 * and retry, or reopen the log with `acceptLostFiles: [<path>]` to record the loss in the manifest.
 */
export class MissingFileError extends SkewlessError {
  /** Always `'missing-file'`. */
  declare readonly code: 'missing-file'
  /** Absolute path of the missing file. */
  readonly file: string
  /** Manifest-relative path (what `acceptLostFiles` takes). */
  readonly path: string

  constructor(root: string, path: string, rows: number | null, options?: SkewlessErrorOptions) {
    const file = `${root}/${path}`
    super(
      'missing-file',
      errorMessage(
        'offline-parquet',
        `committed file ${file} is missing${rows === null ? '' : ` (${rows} rows)`}; restore it, or open with acceptLostFiles: [${JSON.stringify(path)}]`,
        README,
      ),
      options,
    )
    this.file = file
    this.path = path
  }
}

/**
 * A `.parquet` file in a partition directory that no manifest version lists: not written by this log
 * (copied in by hand, restored from an old backup, written by another tool). Code `'foreign-file'`.
 * Its rows are not counted: move it out of the log directory (or delete it).
 * `onCorruptFile: 'skip'` reads around it.
 */
export class ForeignFileError extends SkewlessError {
  /** Always `'foreign-file'`. */
  declare readonly code: 'foreign-file'
  /** Absolute path of the file. */
  readonly file: string

  constructor(file: string, options?: SkewlessErrorOptions) {
    super(
      'foreign-file',
      errorMessage(
        'offline-parquet',
        `${file} is not part of the log (no manifest version lists it). Move it out of the log directory`,
        README,
      ),
      options,
    )
    this.file = file
  }
}

/**
 * A commit recorded in the manifest (or a legacy journal) lists a file whose temp name and final name
 * are both gone, so opening cannot roll that commit forward. Code `'roll-forward-failed'`. Restore the
 * temp file (or the final file) and open again, or open with `acceptLostFiles: [<path>]` to record
 * the loss of that file (the commit's other files stay).
 */
export class RollForwardError extends SkewlessError {
  /** Always `'roll-forward-failed'`. */
  declare readonly code: 'roll-forward-failed'
  /** The manifest version or journal that records the commit. */
  readonly commit: string
  /** Manifest-relative path of the file that is gone. */
  readonly path: string

  constructor(commit: string, path: string, tmp: string, options?: SkewlessErrorOptions) {
    super(
      'roll-forward-failed',
      errorMessage(
        'offline-parquet',
        `commit ${commit} lists ${path}, but neither it nor its temp file ${tmp} exists; restore one, or open with acceptLostFiles: [${JSON.stringify(path)}]`,
        README,
      ),
      options,
    )
    this.commit = commit
    this.path = path
  }
}

/**
 * The log cannot be written at its path (read-only file system, permissions, a path component that
 * is a file). Code `'log-unwritable'`. Open it with `readOnly: true` to read, or fix the path.
 */
export class LogUnwritableError extends SkewlessError {
  /** Always `'log-unwritable'`. */
  declare readonly code: 'log-unwritable'
  /** The log directory. */
  readonly dir: string
  /** The system error code (`EROFS`, `EACCES`, `EPERM`, `ENOTDIR`, `ENOSPC`, ...). */
  readonly errno: string

  constructor(dir: string, errno: string, options?: SkewlessErrorOptions) {
    super(
      'log-unwritable',
      errorMessage(
        'offline-parquet',
        `cannot open ${dir} for writing (${errno}); open it with readOnly: true, or fix the path`,
        README,
      ),
      options,
    )
    this.dir = dir
    this.errno = errno
  }
}

/**
 * The log records a different definition of a feature than the one it was opened with (same name,
 * other value type, window, aggregate or emit mode). Code `'definition-changed'`. Rows of both
 * definitions under one name would be silently mixed. Give the new definition a new name (e.g.
 * `clicks_1h_v2`) and backfill it, or open with the definition the log records (`describe()`).
 */
export class DefinitionChangedError extends SkewlessError {
  /** Always `'definition-changed'`. */
  declare readonly code: 'definition-changed'
  /** The feature name. */
  readonly feature: string

  constructor(feature: string, recorded: string, given: string, options?: SkewlessErrorOptions) {
    super(
      'definition-changed',
      errorMessage(
        'offline-parquet',
        `feature "${feature}" is recorded in this log as ${recorded}, but was opened as ${given}; give the new definition a new name (e.g. "${feature}_v2")`,
        README,
      ),
      options,
    )
    this.feature = feature
  }
}
