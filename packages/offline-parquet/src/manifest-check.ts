import { access } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { ForeignFileError, MissingFileError } from './errors.js'
import { parseName, TEMP_PREFIX, TEMP_SUFFIX } from './layout.js'
import type { Manifest } from './manifest.js'
import type { FileEntry } from './manifest-format.js'
import type { NamedFile } from './partition-listing.js'
import type { PartitionDir, TimeWindow } from './segment-files.js'

/** Damage a listing of one partition showed: files to leave out, and the errors to report. */
export interface Damage {
  errors: (MissingFileError | ForeignFileError)[]
  /** Names of files not to read: foreign ones, and (for a reader) files of an unfinished newest commit. */
  skip: Set<string>
}

/** Compares a partition listing with the manifest (see `listPartition`'s `verify`). */
export interface PartitionVerifier {
  /** Taken before the listing: the state it is compared with must not have moved meanwhile. */
  begin(): number
  /** `'retry'`: the manifest moved during the listing (a commit or compaction ran), list again. */
  check(
    p: PartitionDir,
    live: readonly NamedFile[],
    window: TimeWindow,
    token: number,
  ): Promise<'ok' | 'retry' | Damage>
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  )

function overlaps(e: FileEntry, w: TimeWindow): boolean {
  const lo = w.by === 'event' ? e.minEventTime : e.minAvailableTime
  const hi = w.by === 'event' ? e.maxEventTime : e.maxAvailableTime
  return hi >= w.from && lo < w.to
}

/**
 * A verifier over `manifest`. A file the listing shows and no version lists is foreign; a live file
 * of the manifest that overlaps the window and is not listed is missing — unless the manifest moved
 * while the listing ran (then the caller lists again), its rename is still to come in this process,
 * or it or its temp file exists on disk: the writer is renaming it (or crashed while doing so, and
 * the next writable open rolls it forward), or it appeared after the listing.
 */
export function manifestVerifier(
  root: string,
  manifest: Manifest,
  /** Whether this handle only reads now: opened read-only, or closed (another writer may own the log). */
  isReader: () => boolean,
): PartitionVerifier {
  return {
    begin: () => manifest.stamp,
    async check(p, live, window, token) {
      const rel = `feature=${p.feature}/${basename(p.dir)}`
      const expected = manifest.filesIn(rel)
      const listed = new Set<string>()
      const foreign: string[] = []
      const skip = new Set<string>()
      // A reader leaves out the files of a commit whose renames are unfinished (its marks are not
      // reported either, see `readerMarks`): all of a commit or none of it.
      const readOnly = isReader()
      const unfinished = readOnly ? await unfinishedNewest(manifest) : undefined
      for (const f of live) {
        listed.add(f.name)
        const path = `${rel}/${f.name}`
        if (unfinished?.has(path)) skip.add(f.name)
        else if (!expected.has(f.name) && !manifest.wasRemoved(path)) foreign.push(f.name)
      }
      const missing: FileEntry[] = []
      for (const [name, e] of expected) {
        if (!listed.has(name) && !manifest.pending.has(e.path) && overlaps(e, window)) missing.push(e)
      }
      if (foreign.length === 0 && missing.length === 0) return skip.size > 0 ? { errors: [], skip } : 'ok'
      if (manifest.stamp !== token) return 'retry'
      if (readOnly && (await manifest.refresh())) return 'retry'
      const errors: Damage['errors'] = []
      for (const e of missing) {
        const id = parseName(basename(e.path))?.id
        const tmp = id && join(p.dir, `${TEMP_PREFIX}${id.writer}-${id.seq}${TEMP_SUFFIX}`)
        // Committed with its rename still to come, or renamed after the listing, or an output of a
        // compaction whose other outputs are still being renamed (the listing counts its inputs then).
        if (tmp !== undefined && (await exists(tmp))) continue
        if (await exists(join(root, e.path))) continue
        errors.push(new MissingFileError(root, e.path, e.rows))
      }
      for (const name of foreign) {
        errors.push(new ForeignFileError(join(p.dir, name)))
        skip.add(name)
      }
      return errors.length === 0 && skip.size === 0 ? 'ok' : { errors, skip }
    },
  }
}

/**
 * The paths of the newest version when some of its files are not in place yet (its temp files are
 * still being renamed, or the writer crashed while renaming them); `undefined` when it is complete.
 */
export async function unfinishedNewest(m: Manifest): Promise<Set<string> | undefined> {
  const v = m.last
  if (v === undefined || v.version !== m.version || v.add.length === 0) return undefined
  for (const a of v.add) if (!(await exists(join(m.root, a.path)))) return new Set(v.add.map((x) => x.path))
  return undefined
}
