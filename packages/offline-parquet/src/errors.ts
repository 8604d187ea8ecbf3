import { SkewlessError, type SkewlessErrorOptions } from '@skewless/core'

/**
 * A `.parquet` file under the log directory could not be read as a log segment: truncated, torn by
 * something other than this library, foreign (another schema), or not Parquet at all. The rest of
 * the log stays readable: pass `onCorruptFile: 'skip'` (or a callback) to read around it.
 */
export class CorruptFileError extends SkewlessError {
  /** Absolute path of the offending file. */
  readonly file: string

  constructor(file: string, detail: string, options?: SkewlessErrorOptions) {
    super(
      'corrupt-file',
      `offline-parquet: cannot read log file ${file}: ${detail}. Move or delete the file, or open the log ` +
        "with onCorruptFile: 'skip' to read the rest of the log around it.",
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
  /** Absolute path of the journal. */
  readonly file: string

  constructor(file: string, detail: string, options?: SkewlessErrorOptions) {
    super(
      'corrupt-journal',
      `offline-parquet: cannot read the commit journal ${file}: ${detail}. It lists the renames of a commit ` +
        'that stopped while renaming its files. Restore the file (e.g. from a backup) and open again to finish ' +
        'that commit, or delete it to open the log without it: its files not yet renamed (_tmp-*.tmp) are then ' +
        'removed and the ones already renamed stay, so that commit (never acknowledged to its appender) may ' +
        'remain partly in the log.',
      options,
    )
    this.file = file
  }
}

/** Writing a segment failed (disk full, permissions, encoder error). The append that waited on it rejects. */
export class CommitFailedError extends SkewlessError {
  constructor(message: string, options?: SkewlessErrorOptions) {
    super('commit-failed', `offline-parquet: ${message}`, options)
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
  /** The log directory. */
  readonly dir: string
  /** `true`: this writer held the lock and lost it. */
  readonly lost: boolean

  constructor(dir: string, holder: string, options?: SkewlessErrorOptions & { lost?: boolean }) {
    super(
      'log-locked',
      options?.lost
        ? `offline-parquet: this writer lost the lock of ${dir} (now: ${holder}): it did not refresh the lock ` +
            'for longer than lockLeaseMs (paused, or cut off from the storage) and another writer took it over, ' +
            'or _writer.lock was removed. Nothing more is written by this log: close it and open the log again.'
        : `offline-parquet: ${dir} is open for writing by another writer (${holder}). Give each writer its own ` +
            'directory (e.g. <root>/partition=<n>), open with readOnly: true to read, or delete _writer.lock only if that writer is gone for good.',
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
  /** The partition directory. */
  readonly dir: string

  constructor(dir: string, detail: string, options?: SkewlessErrorOptions) {
    super(
      'unstable-listing',
      `offline-parquet: ${dir} changed while being read: ${detail}; retry the read`,
      options,
    )
    this.dir = dir
  }
}

/** The log was opened with `readOnly: true` and cannot write (append, write, compact). Code `'read-only'`. */
export class ReadOnlyLogError extends SkewlessError {
  constructor(what: string, options?: SkewlessErrorOptions) {
    super(
      'read-only',
      `offline-parquet: ${what} needs a writable log, but this one was opened with readOnly: true. Call it on the log of the process that writes (it holds the writer lock).`,
      options,
    )
  }
}
