import { access, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { definitionsOf, reconcileDefinitions } from './definitions.js'
import { RollForwardError } from './errors.js'
import { fsyncDir, removeQuietly, rename } from './file-io.js'
import { Manifest } from './manifest.js'
import { unfinishedNewest } from './manifest-check.js'
import { type FeatureDefinition, type FileEntry, MANIFEST_DIR, versionName } from './manifest-format.js'
import { resolvePartition } from './partition-listing.js'
import { dirEntries, listPartitionDirs } from './segment-files.js'
import { dropStateCheckpoints } from './state-checkpoint.js'

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  )

/**
 * Finish the renames of the last manifest version (a crash may have stopped them: the version is
 * the commit point). A file whose final and temp names are both gone is a `RollForwardError`
 * unless `acceptLost` names it; the accepted ones are returned (to be recorded as lost).
 */
export async function rollForward(
  m: Manifest,
  acceptLost: ReadonlySet<string>,
): Promise<{ renamed: number; lost: string[] }> {
  const v = m.last
  const lost: string[] = []
  let renamed = 0
  if (v === undefined) return { renamed, lost }
  const dirs = new Set<string>()
  for (const a of v.add) {
    const final = join(m.root, a.path)
    if (await exists(final)) continue
    if (a.tmp !== undefined) {
      try {
        await rename(join(m.root, a.tmp), final)
        dirs.add(dirname(final))
        renamed++
        continue
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
      }
    }
    if (acceptLost.has(a.path)) lost.push(a.path)
    else throw new RollForwardError(join(m.dir, versionName(v.version)), a.path, a.tmp ?? '(none)')
  }
  for (const d of dirs) await fsyncDir(d)
  return { renamed, lost }
}

/** The committed files of a log that has no manifest yet, from names alone (what readers counted so far). */
export async function filesPresent(root: string): Promise<FileEntry[]> {
  const out: FileEntry[] = []
  for (const d of await listPartitionDirs(root)) {
    const rel = d
      .slice(root.length + 1)
      .split('\\')
      .join('/')
    for (const f of resolvePartition(await dirEntries(d)).live) {
      const b = f.parsed?.bounds
      if (b === undefined) continue // not a file of this library: stays foreign
      out.push({ path: `${rel}/${f.name}`, rows: null, bytes: (await stat(join(d, f.name))).size, ...b })
    }
  }
  return out
}

/** Options of `prepareManifest`. */
export interface PrepareOptions {
  definitions: FeatureDefinition[]
  acceptLost: ReadonlySet<string>
}

/**
 * After recovery, on a writable open: create the manifest of a log that has none (version 0 lists the
 * files present), record the feature definitions this open adds or refines (a changed one throws
 * `DefinitionChangedError`), and record files accepted as lost.
 */
export async function prepareManifest(
  m: Manifest,
  o: PrepareOptions,
  lostAtRollForward: string[],
): Promise<void> {
  if (m.version < 0) {
    await m.initialize(await filesPresent(m.root), o.definitions)
    return
  }
  const changes = reconcileDefinitions(m.features, o.definitions)
  if (changes.length > 0) await m.write({ add: [], remove: [], features: changes })
  const lost = [...lostAtRollForward]
  for (const path of o.acceptLost) {
    if (lost.includes(path)) continue
    const slash = path.lastIndexOf('/')
    if (!m.filesIn(path.slice(0, slash)).has(path.slice(slash + 1))) continue
    if (!(await exists(join(m.root, path)))) lost.push(path)
  }
  if (lost.length > 0) {
    // State checkpoints may hold rows of the lost files: gone before the loss is committed.
    await dropStateCheckpoints(m.root)
    await m.write({ add: [], remove: lost, note: 'lost' })
  }
}

/** Load the manifest for an open; a writable open removes a torn last version (never acknowledged). */
export async function loadManifest(
  root: string,
  writer: string,
  readOnly: boolean,
  every: number,
): Promise<Manifest> {
  const m = await Manifest.load(root, writer, every)
  if (!readOnly && m.tornTail !== undefined && m.version >= 0) {
    await removeQuietly(m.tornTail)
    m.tornTail = undefined
    await fsyncDir(join(root, MANIFEST_DIR))
  }
  // Checked at every open, read-only too: a reader must not mix two definitions either.
  return m
}

export { definitionsOf, reconcileDefinitions }

/**
 * The marks a reader in another process reports: those of the newest version once its files are in
 * place, else those before it (the writer is renaming them, or crashed before it could; the next
 * writable open completes it). So the marks never run ahead of the rows a scan returns.
 */
export async function readerMarks(m: Manifest): Promise<import('@skewless/core').CommitMarks> {
  return (await unfinishedNewest(m)) ? m.marksBefore : m.marks
}
