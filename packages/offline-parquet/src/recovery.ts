import { access, readdir, readFile } from 'node:fs/promises'
import { dirname, join, posix } from 'node:path'
import { CorruptJournalError, RollForwardError } from './errors.js'
import { fsyncDir, removeQuietly, rename } from './file-io.js'
import { compareIds, isPartitionDir, JOURNAL_DIR, parseName, TEMP_PREFIX, TEMP_SUFFIX } from './layout.js'
import { resolvePartition } from './partition-listing.js'
import { listPartitionDirs } from './segment-files.js'

/** What opening the log found and did about a previous crash. */
export interface RecoveryReport {
  /** Multi-file commits whose journal was complete: their renames were redone (roll forward). */
  replayedCommits: number
  /**
   * Temporary files of commits that never completed (never acknowledged): deleted, or only listed when
   * read-only. A writable open also lists the temp and set-aside files of writer-lock acquisitions a
   * crash interrupted, which taking the lock removed (only provably stale ones, see writer-lock.ts).
   */
  tempFiles: string[]
  /**
   * Files replaced by a committed compaction that a crash left behind (roll forward): deleted, or only
   * counted when read-only. Readers ignore them either way.
   */
  replacedFiles: number
  /**
   * Outputs of a compaction that crashed before all its outputs were renamed (roll back): deleted, or
   * only counted when read-only. Readers ignore them either way; the compaction's inputs stay.
   */
  abortedCompactionFiles: number
  /** Whether the files above were deleted (false when the log was opened read-only). */
  removed: boolean
}

/** A commit journal: the renames of one multi-file commit, relative to the log root. */
export interface Journal {
  files: [tmp: string, final: string][]
}

/**
 * Parse a journal and check that it holds what `commitRecords` writes: renames of a temp file to a
 * segment name in the same partition directory. Anything else is damage, and replaying it could
 * rename or lose files outside that commit, so it is an error naming the file (the journal was
 * fsynced before it got its `.json` name: a crash cannot tear it).
 */
export function parseJournal(path: string, text: string): Journal {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (e) {
    throw new CorruptJournalError(path, `not valid JSON (${(e as Error).message})`, { cause: e })
  }
  const files = (v as Partial<Journal> | null)?.files
  if (!Array.isArray(files) || files.length === 0) {
    throw new CorruptJournalError(path, 'no "files" list of renames')
  }
  for (const pair of files as unknown[]) {
    const [tmp, final] = Array.isArray(pair) ? (pair as unknown[]) : []
    const ok =
      Array.isArray(pair) &&
      pair.length === 2 &&
      typeof tmp === 'string' &&
      typeof final === 'string' &&
      isPartitionDir(posix.dirname(tmp)) &&
      posix.dirname(tmp) === posix.dirname(final) &&
      posix.basename(tmp).startsWith(TEMP_PREFIX) &&
      posix.basename(tmp).endsWith(TEMP_SUFFIX) &&
      parseName(posix.basename(final)) !== undefined
    if (!ok) {
      throw new CorruptJournalError(
        path,
        `${JSON.stringify(pair)?.slice(0, 200)} is not a rename of a temp file to a segment of one partition`,
      )
    }
  }
  return v as Journal
}

/**
 * Finish or undo what a crash interrupted. A complete journal means every temp file of its commit
 * was written and fsynced, so its renames are redone; any other temp file belongs to a commit that
 * never reached its journal (or needed none) and was never acknowledged, so it is deleted. A
 * compaction that crashed is finished (its inputs deleted) when it was committed, else undone (its
 * renamed outputs deleted) — decided from file names alone (`resolvePartition`).
 * A `.json` journal that cannot be read throws `CorruptJournalError` before anything is deleted.
 * Read-only opens only report. Also returns the greatest writer id found, so that the new writer's
 * id sorts after it.
 */
export async function recover(
  root: string,
  readOnly: boolean,
  acceptLost: ReadonlySet<string> = new Set(),
  /** Runs after the journals are replayed, before temp files are deleted (the manifest's roll-forward). */
  beforeCleanup?: () => Promise<void>,
): Promise<{ report: RecoveryReport; lastWriterId: string | undefined }> {
  const report: RecoveryReport = {
    replayedCommits: 0,
    tempFiles: [],
    replacedFiles: 0,
    abortedCompactionFiles: 0,
    removed: !readOnly,
  }
  let lastWriterId: string | undefined
  const jdir = join(root, JOURNAL_DIR)
  let journals: string[] = []
  try {
    journals = (await readdir(jdir)).sort()
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
  // Every journal is read before anything is renamed or deleted: a damaged one stops the open with
  // the directory as the crash left it.
  const parsed = new Map<string, Journal>()
  if (!readOnly) {
    for (const j of journals) {
      const p = join(jdir, j)
      if (j.endsWith('.json')) parsed.set(p, parseJournal(p, await readFile(p, 'utf8')))
    }
  }
  for (const j of journals) {
    const p = join(jdir, j)
    const journal = parsed.get(p)
    if (journal === undefined) {
      report.tempFiles.push(p)
      if (!readOnly && !j.endsWith('.json')) await removeQuietly(p)
      continue
    }
    const dirs = new Set<string>()
    for (const [tmp, final] of journal.files) {
      try {
        await rename(join(root, tmp), join(root, final))
        dirs.add(dirname(join(root, final)))
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
        // Already renamed before the crash, if the final file is there; if neither is, the commit
        // cannot be completed: say so, rather than open a log that lacks part of a commit.
        const there = await access(join(root, final)).then(
          () => true,
          () => false,
        )
        if (!there && !acceptLost.has(final)) throw new RollForwardError(p, final, tmp)
      }
    }
    for (const d of dirs) await fsyncDir(d)
    await removeQuietly(p)
    report.replayedCommits++
  }
  await beforeCleanup?.()
  for (const d of await listPartitionDirs(root)) {
    const names = await readdir(d)
    for (const f of names) {
      if (f.startsWith(TEMP_PREFIX) && f.endsWith(TEMP_SUFFIX)) {
        report.tempFiles.push(join(d, f))
        if (!readOnly) await removeQuietly(join(d, f))
        continue
      }
      const w = parseName(f)?.id.writer
      if (
        w !== undefined &&
        (lastWriterId === undefined ||
          compareIds({ writer: w, seq: 0 }, { writer: lastWriterId, seq: 0 }) > 0)
      )
        lastWriterId = w
    }
    const { covered, aborted } = resolvePartition(names)
    report.replacedFiles += covered.length
    report.abortedCompactionFiles += aborted.length
    if (!readOnly && covered.length + aborted.length > 0) {
      for (const f of [...aborted, ...covered]) await removeQuietly(join(d, f))
      await fsyncDir(d)
    }
  }
  return { report, lastWriterId }
}
