import { readdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fsyncDir, removeQuietly, rename } from './file-io.js'
import { JOURNAL_DIR, TEMP_PREFIX, TEMP_SUFFIX } from './layout.js'
import { listPartitionDirs } from './segments.js'

/** What opening the log found and did about a previous crash. */
export interface RecoveryReport {
  /** Multi-file commits whose journal was complete: their renames were redone (roll forward). */
  replayedCommits: number
  /** Temporary files of commits that never completed (never acknowledged): deleted, or only listed when read-only. */
  tempFiles: string[]
  /** Whether `tempFiles` were deleted (false when the log was opened read-only). */
  removed: boolean
}

/** A commit journal: the renames of one multi-file commit, relative to the log root. */
export interface Journal {
  files: [tmp: string, final: string][]
}

/**
 * Finish or undo what a crash interrupted. A complete journal means every temp file of its commit
 * was written and fsynced, so its renames are redone; any other temp file belongs to a commit that
 * never reached its journal (or needed none) and was never acknowledged, so it is deleted.
 * Read-only opens only report.
 */
export async function recover(root: string, readOnly: boolean): Promise<RecoveryReport> {
  const report: RecoveryReport = { replayedCommits: 0, tempFiles: [], removed: !readOnly }
  const jdir = join(root, JOURNAL_DIR)
  let journals: string[] = []
  try {
    journals = (await readdir(jdir)).sort()
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
  for (const j of journals) {
    const p = join(jdir, j)
    if (!j.endsWith('.json')) {
      report.tempFiles.push(p)
      if (!readOnly) await removeQuietly(p)
      continue
    }
    if (readOnly) {
      report.tempFiles.push(p)
      continue
    }
    const journal = JSON.parse(await readFile(p, 'utf8')) as Journal
    const dirs = new Set<string>()
    for (const [tmp, final] of journal.files) {
      try {
        await rename(join(root, tmp), join(root, final))
        dirs.add(dirname(join(root, final)))
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e // already renamed before the crash
      }
    }
    for (const d of dirs) await fsyncDir(d)
    await removeQuietly(p)
    report.replayedCommits++
  }
  for (const d of await listPartitionDirs(root)) {
    for (const f of await readdir(d)) {
      if (f.startsWith(TEMP_PREFIX) && f.endsWith(TEMP_SUFFIX)) {
        report.tempFiles.push(join(d, f))
        if (!readOnly) await removeQuietly(join(d, f))
      }
    }
  }
  return report
}
