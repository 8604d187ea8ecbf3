import { type Cover, compareIds, type ParsedName, parseName, type SegmentId } from './layout.js'

/** A `.parquet` file of a partition directory, with its parsed name (`undefined`: not named by this library). */
export interface NamedFile {
  name: string
  parsed: ParsedName | undefined
}

/** What a listing of one partition directory means. */
export interface Resolution {
  /** The partition's content, in name order: segments, outputs of committed compactions, foreign files. */
  live: NamedFile[]
  /** Replaced by a committed compaction, not deleted yet (a compaction finishing, or one that crashed after its renames). */
  covered: string[]
  /** Outputs of a compaction that is not committed (still renaming, or crashed while renaming): its inputs are the content. */
  aborted: string[]
}

const inRange = (id: SegmentId, c: Cover) => compareIds(c.lo, id) <= 0 && compareIds(id, c.hi) <= 0

/** Whether a directory entry can be a committed file (temporaries, journals and hidden files start with `_` or `.`). */
export function isDataFile(name: string): boolean {
  return !name.startsWith('_') && !name.startsWith('.') && name.endsWith('.parquet')
}

/**
 * Resolve the names of one partition directory into its content, from names alone.
 *
 * A compaction writes its outputs (named with the id range `[lo, hi]` of the files they replace and
 * `p<i>of<k>`), renames all of them into place, fsyncs the directory, and only then deletes its
 * inputs. So a compaction is **committed** when all `k` outputs are listed, or when no file of its
 * range is left (its inputs are gone, later compactions may have replaced some of its outputs).
 * A committed compaction hides every file whose id is in its range; an uncommitted one hides its own
 * outputs. Every state a crash or a concurrent reader can observe therefore resolves to either the
 * inputs or the outputs, never both and never neither. Relies on: no file with an id in `[lo, hi]`
 * appears after the compaction chose its inputs (ids grow; see `newWriterId` and `settledBefore`).
 */
export function resolvePartition(names: readonly string[]): Resolution {
  const files: NamedFile[] = []
  for (const name of names) if (isDataFile(name)) files.push({ name, parsed: parseName(name) })
  files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const groups = new Map<string, { cover: Cover; parts: Set<number>; committed: boolean }>()
  const groupOf = (c: Cover) => `${c.lo.writer}-${c.lo.seq}-${c.hi.writer}-${c.hi.seq}-${c.parts}`
  for (const f of files) {
    const c = f.parsed?.cover
    if (!c) continue
    const key = groupOf(c)
    let g = groups.get(key)
    if (!g) {
      g = { cover: c, parts: new Set(), committed: false }
      groups.set(key, g)
    }
    g.parts.add(c.part)
  }
  if (groups.size === 0) return { live: files, covered: [], aborted: [] }
  const committed: Cover[] = []
  for (const g of groups.values()) {
    g.committed =
      g.parts.size >= g.cover.parts ||
      !files.some((f) => f.parsed !== undefined && inRange(f.parsed.id, g.cover))
    if (g.committed) committed.push(g.cover)
  }
  const out: Resolution = { live: [], covered: [], aborted: [] }
  for (const f of files) {
    const p = f.parsed
    if (p === undefined) out.live.push(f)
    else if (committed.some((c) => inRange(p.id, c))) out.covered.push(f.name)
    else if (p.cover && !groups.get(groupOf(p.cover))?.committed) out.aborted.push(f.name)
    else out.live.push(f)
  }
  return out
}

/** Whether `later` (a second listing) holds a compaction output that `earlier` did not. */
export function newCompactionOutput(earlier: ReadonlySet<string>, later: readonly string[]): boolean {
  for (const name of later)
    if (!earlier.has(name) && name.includes('_r') && parseName(name)?.cover) return true
  return false
}
