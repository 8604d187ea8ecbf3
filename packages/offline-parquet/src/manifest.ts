import { readdir, readFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import type { CommitMarks } from '@skewless/core'
import { mergeMarks } from '@skewless/offline-log/adapter'
import { CorruptManifestError, LogLockedError } from './errors.js'
import { ensureDir, fsyncDir, removeQuietly, writeFileDurable } from './file-io.js'
import {
  type AddedFile,
  type FeatureDefinition,
  type FileEntry,
  MANIFEST_DIR,
  MANIFEST_FORMAT,
  type ManifestSnapshot,
  type ManifestVersion,
  parseManifestName,
  parseSnapshot,
  parseVersion,
  snapshotName,
  versionName,
} from './manifest-format.js'
import { manifestJson } from './marks-text.js'

/** What a commit records (the manifest fills in format, version, writer and time). */
export type VersionBody = Pick<ManifestVersion, 'add' | 'remove'> &
  Partial<Pick<ManifestVersion, 'marks' | 'features' | 'note'>>

/** A place in the order of commits: wait for `ready`, write, then `release` (always). */
export interface CommitTicket {
  ready: Promise<void>
  release: () => void
}

/** Default number of versions between two snapshots. */
export const SNAPSHOT_EVERY = 100

const partitionOf = (path: string) => path.slice(0, path.lastIndexOf('/'))
const nameOf = (path: string) => path.slice(path.lastIndexOf('/') + 1)

/**
 * The log's record of what it committed (see docs/decisions/manifest.md): numbered versions, each
 * written create-exclusive and fsynced before the commit's files are renamed into place, plus a
 * snapshot of the whole state every `snapshotEvery` versions so opening reads at most that many.
 * This class holds the state (live files, marks, feature definitions) and writes versions in order.
 */
export class Manifest {
  readonly dir: string
  /** Last version applied; -1 for none. */
  version = -1
  marks: CommitMarks = {}
  /** Marks before the newest version (what a reader reports while that version's renames are unfinished). */
  marksBefore: CommitMarks = {}
  readonly features = new Map<string, FeatureDefinition>()
  /** Paths (relative) whose version is written but which are not renamed into place yet. */
  readonly pending = new Set<string>()
  /** Renames of a commit that failed after its version was written: the next commit redoes them. */
  unfinished: [tmp: string, final: string][] = []
  /** Bumped on every change of the state: a check that saw the same stamp before and after saw a stable state. */
  stamp = 0
  /** The last version read at load: its renames may be unfinished after a crash. */
  last: ManifestVersion | undefined
  /** Whether the last version file on disk was torn (a crash while writing it): it is not committed. */
  tornTail: string | undefined
  private readonly live = new Map<string, Map<string, FileEntry>>()
  /** Paths removed by versions read or written since open, with that version (pruned at snapshots). */
  private readonly removed = new Map<string, number>()
  private snapshotAt = -1
  private chain: Promise<void> = Promise.resolve()
  private mutex: Promise<void> = Promise.resolve()

  private constructor(
    readonly root: string,
    /** Writer id recorded in the versions this process writes. */
    public writer: string,
    private readonly snapshotEvery: number,
  ) {
    this.dir = join(root, MANIFEST_DIR)
  }

  /**
   * Read the manifest of `root`: the latest snapshot, then every version after it. A torn last
   * version (a crash while writing it, so never acknowledged) is left out and reported in `tornTail`.
   * `version` stays -1 when the log has no manifest yet (a log written before manifests existed).
   */
  static async load(root: string, writer: string, snapshotEvery = SNAPSHOT_EVERY): Promise<Manifest> {
    const m = new Manifest(root, writer, snapshotEvery)
    await m.reload()
    return m
  }

  /** Start the manifest of a log that has none: version 0 records `files` and `features`. */
  async initialize(files: FileEntry[], features: FeatureDefinition[]): Promise<void> {
    await ensureDir(this.root, this.dir)
    if (this.tornTail !== undefined) await removeQuietly(this.tornTail)
    this.tornTail = undefined
    await this.write({ add: files, remove: [], features, note: 'created' })
  }

  private async entries(): Promise<string[] | undefined> {
    try {
      return await readdir(this.dir)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw e
    }
  }

  /** Rebuild the state from disk. False when there is no manifest (or only a torn version 0). */
  private async reload(): Promise<boolean> {
    const names = await this.entries()
    if (names === undefined) return false
    const snaps: number[] = []
    const versions: number[] = []
    for (const n of names) {
      const p = parseManifestName(n)
      if (p?.kind === 'snapshot') snaps.push(p.version)
      else if (p?.kind === 'version') versions.push(p.version)
    }
    snaps.sort((a, b) => b - a)
    this.live.clear()
    this.removed.clear()
    this.features.clear()
    this.marks = {}
    this.version = -1
    if (snaps.length > 0) {
      const v = snaps[0] as number
      const path = join(this.dir, snapshotName(v))
      this.applySnapshot(parseSnapshot(path, await readFile(path, 'utf8'), v))
      this.snapshotAt = v
    }
    versions.sort((a, b) => a - b)
    const todo = versions.filter((v) => v > this.version)
    const ok = await this.applyVersions(todo)
    if (!ok) return this.reload() // a snapshot and cleanup ran meanwhile (another process): read again
    return this.version >= 0
  }

  /** Apply versions in order; false when one vanished (cleaned up after a newer snapshot). */
  private async applyVersions(todo: number[]): Promise<boolean> {
    for (let i = 0; i < todo.length; i++) {
      const v = todo[i] as number
      if (v !== this.version + 1) {
        throw new CorruptManifestError(this.dir, `version ${this.version + 1} is missing (found ${v})`)
      }
      const path = join(this.dir, versionName(v))
      let text: string
      try {
        text = await readFile(path, 'utf8')
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false
        throw e
      }
      let parsed: ManifestVersion
      try {
        parsed = parseVersion(path, text, v)
      } catch (e) {
        // Only the newest version can be torn: the next one is written after this one's fsync.
        if (i === todo.length - 1) {
          this.tornTail = path
          return true
        }
        throw e
      }
      this.apply(parsed)
      this.last = parsed
    }
    return true
  }

  /** Read versions committed by another process since the last read. True when the state changed. */
  async refresh(): Promise<boolean> {
    const before = this.version
    const names = await this.entries()
    if (names === undefined) return false
    const todo: number[] = []
    for (const n of names) {
      const p = parseManifestName(n)
      if (p?.kind === 'version' && p.version > this.version) todo.push(p.version)
    }
    todo.sort((a, b) => a - b)
    this.tornTail = undefined
    if (!(await this.applyVersions(todo))) await this.reload()
    return this.version !== before
  }

  private applySnapshot(s: ManifestSnapshot): void {
    for (const f of s.files) this.setLive(f)
    for (const f of s.features) this.features.set(f.name, f)
    this.marks = s.marks
    this.version = s.version
    this.stamp++
  }

  private setLive(f: AddedFile): void {
    const part = partitionOf(f.path)
    let m = this.live.get(part)
    if (!m) {
      m = new Map()
      this.live.set(part, m)
    }
    const { tmp: _tmp, ...entry } = f
    m.set(nameOf(f.path), entry)
  }

  private apply(v: ManifestVersion): void {
    for (const r of v.remove) {
      this.live.get(partitionOf(r))?.delete(nameOf(r))
      this.removed.set(r, v.version)
    }
    for (const a of v.add) this.setLive(a)
    this.marksBefore = this.marks
    if (v.marks) this.marks = mergeMarks(this.marks, v.marks)
    for (const f of v.features ?? []) this.features.set(f.name, f)
    this.version = v.version
    this.stamp++
  }

  /**
   * Hold the manifest for one version write and its renames: they never interleave with another
   * commit's or compaction's, so only the newest version can have renames left after a crash.
   */
  async lock(): Promise<() => void> {
    let release!: () => void
    const mine = new Promise<void>((r) => {
      release = r
    })
    const prev = this.mutex
    this.mutex = prev.then(() => mine)
    await prev
    return release
  }

  /**
   * Take the next place in the order of commits (synchronously, at the start of a commit), so that
   * versions record commits in call order and marks cover every commit before them. Compactions do
   * not take one: they change no content, and must not wait for commits still encoding.
   */
  reserve(): CommitTicket {
    let release!: () => void
    const mine = new Promise<void>((r) => {
      release = r
    })
    const ready = this.chain
    this.chain = ready.then(() => mine)
    return { ready, release }
  }

  /**
   * Write the next version create-exclusive (`O_EXCL`) and fsync it and its directory: the commit
   * point. Call it holding a ticket. Its added files are `pending` until `renamed`.
   */
  async write(body: VersionBody): Promise<ManifestVersion> {
    const v: ManifestVersion = {
      format: MANIFEST_FORMAT,
      version: this.version + 1,
      writer: this.writer,
      committedAt: Date.now(),
      ...body,
    }
    const path = join(this.dir, versionName(v.version))
    try {
      await writeFileDurable(path, Buffer.from(manifestJson(v)))
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new LogLockedError(this.root, `a writer that committed manifest version ${v.version}`, {
          lost: true,
          cause: e,
        })
      }
      throw e
    }
    await fsyncDir(this.dir)
    for (const a of v.add) this.pending.add(a.path)
    this.apply(v)
    this.last = v
    return v
  }

  /** The files of `v` are renamed into place. */
  renamed(v: ManifestVersion): void {
    for (const a of v.add) this.pending.delete(a.path)
    this.stamp++
  }

  /** Redo the renames a failed commit left (its version is written, so they are committed). */
  async finishRenames(): Promise<void> {
    const dirs = new Set<string>()
    while (this.unfinished.length > 0) {
      const [tmp, final] = this.unfinished[0] as [string, string]
      try {
        await rename(join(this.root, tmp), join(this.root, final))
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
      }
      dirs.add(join(this.root, partitionOf(final)))
      this.unfinished.shift()
      this.pending.delete(final)
    }
    for (const d of dirs) await fsyncDir(d)
    this.stamp++
  }

  /** Write a snapshot when `snapshotEvery` versions passed since the last one, and drop versions before the previous one. */
  async maybeSnapshot(): Promise<void> {
    if (this.version - Math.max(this.snapshotAt, 0) < this.snapshotEvery) return
    const v = this.version
    const s: ManifestSnapshot = {
      format: MANIFEST_FORMAT,
      version: v,
      files: this.files(),
      marks: this.marks,
      features: [...this.features.values()],
    }
    const tmp = join(this.dir, `_tmp-${snapshotName(v)}`)
    await removeQuietly(tmp)
    await writeFileDurable(tmp, Buffer.from(manifestJson(s)))
    await rename(tmp, join(this.dir, snapshotName(v)))
    await fsyncDir(this.dir)
    const previous = this.snapshotAt
    this.snapshotAt = v
    // Keep the versions after the previous snapshot: a reader that loaded it still finds its next ones.
    if (previous < 0) return
    // Files removed that long ago are deleted (compaction deletes its inputs right after its
    // version; recovery deletes what a crash left): a listing no longer shows them.
    for (const [path, version] of this.removed) if (version <= previous) this.removed.delete(path)
    for (const n of (await this.entries()) ?? []) {
      const p = parseManifestName(n)
      if (p && (p.kind === 'version' ? p.version <= previous : p.version < previous))
        await removeQuietly(join(this.dir, n))
    }
  }

  /** Every live file. */
  files(): FileEntry[] {
    const out: FileEntry[] = []
    for (const m of this.live.values()) for (const f of m.values()) out.push(f)
    return out
  }

  /** Live files of one partition (relative `feature=…/date=…`), by file name. */
  filesIn(partition: string): ReadonlyMap<string, FileEntry> {
    return this.live.get(partition) ?? EMPTY
  }

  /** Whether a version read since open removed `path` (a listing may still show it for a moment). */
  wasRemoved(path: string): boolean {
    return this.removed.has(path)
  }
}

const EMPTY: ReadonlyMap<string, FileEntry> = new Map()
