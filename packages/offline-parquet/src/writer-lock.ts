/**
 * One writer per log directory. Opening a log for writing recovers from crashes by deleting temp
 * files and replaying journals, which would destroy the in-progress commits of another live writer.
 * So a writer holds `_writer.lock` (created exclusively, holding its pid, host and pid namespace)
 * until `close()`, and refreshes its mtime every `leaseMs / 3` (a lease). A lock of this host and
 * pid namespace is stale as soon as its process is gone; a lock whose process cannot be checked (of
 * another host, or of another pid namespace of this host: containers with the host's network, whose
 * pids are not visible from here) is stale once its mtime is older than the lease. A holder that lost
 * its lock anyway (paused for longer than the lease) finds out before its next commit (`verify`).
 *
 * Several writers (e.g. one per entity partition) each get their own directory, such as
 * `root/partition=3/`; DuckDB's `read_parquet('root/**\/*.parquet', hive_partitioning=true)` reads them all.
 */

import { randomBytes } from 'node:crypto'
import { type FileHandle, link, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { threadId } from 'node:worker_threads'
import { LogLockedError } from './errors.js'
import { FILE_MODE, fsyncDir } from './file-io.js'
import {
  heldTokens,
  isStale,
  type Judge,
  type LockInfo,
  parseLock,
  pidNamespace,
  readLock,
  sameLock,
} from './lock-file.js'

/** Name of the lock file in the log directory (leading `_`: ignored by Hive-style readers). */
export const LOCK_FILE = '_writer.lock'

/** Default lease of the writer lock (`ParquetLogOptions.lockLease`). */
export const DEFAULT_LOCK_LEASE_MS = 30_000

/** A held lock; `release()` removes it. */
export interface WriterLock {
  readonly path: string
  /** The stale lock that was taken over, if any. */
  readonly tookOver?: LockInfo
  /** Temp and set-aside files of earlier lock acquisitions that a crash interrupted, removed (see `removeStaleLeftovers`). */
  readonly leftoversRemoved: string[]
  /** Set once `verify` found that the lock is no longer ours: every later `verify` throws it. */
  readonly lost: LogLockedError | undefined
  /** Failed refreshes of the lock's mtime (e.g. EIO) since it was taken; `verify` decides what they mean. */
  readonly refreshFailures: number
  /**
   * Resolves when `_writer.lock` still holds this lock (one small read); throws `LogLockedError` (and
   * sets `lost`) when another writer took it over or it was removed. Called before each commit's
   * renames, so a writer that lost its lock never makes files visible.
   */
  verify(): Promise<void>
  release(): Promise<void>
}

export interface WriterLockOptions {
  /** Lease in ms: the lock's mtime is refreshed every `leaseMs / 3`. @default DEFAULT_LOCK_LEASE_MS */
  leaseMs?: number
}

/** Files an acquisition makes next to the lock: its temp file and, when taking over, the stale lock set aside. */
const LEFTOVER = /^_writer\.lock\.[0-9a-f]{16}\.(?:tmp|stale)$/
/**
 * An unreadable (empty, torn) leftover younger than this is left alone: it may be the temp file of a
 * live acquisition that has created it and not written it yet (microseconds, unless that process is
 * stopped). Older, it is the remains of a crash.
 */
const UNREADABLE_LEFTOVER_AGE_MS = 10 * 60_000

/**
 * Take the directory's writer lock or throw `LogLockedError`.
 *
 * The lock's content is written and fsynced under a unique temporary name first and then linked to
 * `_writer.lock` (`link` fails if the name exists), so another process never reads a lock that a
 * live writer has created but not written yet (and mistakes it for one torn by a crash). A stale
 * lock is taken over by renaming it aside and checking that what was moved is the stale lock that
 * was read: a writer that took it over just before gets its lock back.
 */
export async function acquireWriterLock(root: string, options: WriterLockOptions = {}): Promise<WriterLock> {
  const path = join(root, LOCK_FILE)
  const judge: Judge = { leaseMs: options.leaseMs ?? DEFAULT_LOCK_LEASE_MS, pidNs: await pidNamespace() }
  const mine: LockInfo = {
    pid: process.pid,
    host: hostname(),
    since: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
    thread: threadId,
    leaseMs: judge.leaseMs,
    ...(judge.pidNs !== undefined ? { pidNs: judge.pidNs } : {}),
  }
  const tmp = `${path}.${mine.token}.tmp`
  let tookOver: LockInfo | undefined
  const token = mine.token as string
  // Before the temp file exists: another open of this process must see its pid and token as held at
  // once, both in the lock and in the temp file (which `removeStaleLeftovers` would otherwise remove).
  heldTokens.add(token)
  let acquired = false
  let created = false
  /**
   * Kept open while the lock is held: the heartbeat refreshes the mtime through it, so it touches
   * this lock's file only, never one that another writer linked in its place after taking over.
   */
  let fh: FileHandle | undefined
  try {
    fh = await open(tmp, 'wx', FILE_MODE)
    created = true
    await fh.writeFile(JSON.stringify(mine))
    await fh.sync()
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(tmp, path)
        let leftoversRemoved: string[]
        try {
          await fsyncDir(root)
          leftoversRemoved = await removeStaleLeftovers(root, tmp, judge)
        } catch (e) {
          await unlink(path).catch(() => undefined) // not taken after all: leave no lock behind
          throw e
        }
        acquired = true
        return holdLock(root, path, mine, fh, judge.leaseMs, tookOver, leftoversRemoved)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      }
      const current = await readLock(path)
      if (current === 'missing') continue // released meanwhile: try again
      if (current !== undefined && !isStale(current, judge)) {
        throw new LogLockedError(root, `${current.host} pid ${current.pid} since ${current.since}`)
      }
      // Stale (dead process on this host, or an earlier process with this pid) or unreadable (garbage).
      const aside = `${path}.${mine.token}.stale`
      try {
        await rename(path, aside)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue // someone removed it: try again
        throw err
      }
      const moved = await readLock(aside)
      if (!sameLock(moved, current)) {
        // Another process took the stale lock over between our read and our rename: give it back.
        await link(aside, path).catch(() => undefined)
        await unlink(aside).catch(() => undefined)
        throw new LogLockedError(
          root,
          typeof moved === 'object' ? `${moved.host} pid ${moved.pid} since ${moved.since}` : 'unknown',
        )
      }
      await unlink(aside).catch(() => undefined)
      tookOver = current
    }
    throw new LogLockedError(
      root,
      'another process took the lock while this one was taking over a stale lock',
    )
  } finally {
    if (!acquired) {
      heldTokens.delete(token)
      await fh?.close().catch(() => undefined)
    }
    if (created) await unlink(tmp).catch(() => undefined)
  }
}

/** The held lock: refreshes its mtime every `leaseMs / 3` until released or found lost. */
function holdLock(
  root: string,
  path: string,
  mine: LockInfo,
  fh: FileHandle,
  leaseMs: number,
  tookOver: LockInfo | undefined,
  leftoversRemoved: string[],
): WriterLock {
  let released = false
  let lost: LogLockedError | undefined
  let refreshFailures = 0
  let refreshing: Promise<void> | undefined
  const timer = setInterval(() => {
    if (refreshing) return // a slow disk: never pile up refreshes
    const now = new Date()
    // A failure must not become an unhandled rejection (it would end the process): the next
    // commit's `verify` reads the lock and decides whether it is still ours.
    refreshing = fh
      .utimes(now, now)
      .catch(() => {
        refreshFailures++
      })
      .finally(() => {
        refreshing = undefined
      })
  }, leaseMs / 3)
  timer.unref() // an open log alone must not keep the process alive
  const stop = async () => {
    clearInterval(timer)
    await refreshing
  }
  const lose = (holder: string) => {
    lost = new LogLockedError(root, holder, { lost: true })
    void stop()
    return lost
  }
  return {
    path,
    ...(tookOver ? { tookOver } : {}),
    leftoversRemoved,
    get lost() {
      return lost
    },
    get refreshFailures() {
      return refreshFailures
    },
    async verify() {
      if (lost) throw lost
      let text: string
      try {
        text = await readFile(path, 'utf8')
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw lose(`none: ${LOCK_FILE} was removed`)
        throw e // cannot tell (EIO): this commit fails, the next one checks again
      }
      const current = parseLock(text)
      if (current?.token === mine.token) return
      throw lose(current ? `${current.host} pid ${current.pid} since ${current.since}` : 'unknown')
    },
    async release() {
      if (released) return
      released = true
      heldTokens.delete(mine.token as string)
      await stop()
      await fh.close().catch(() => undefined)
      // Never delete a lock that is no longer ours (taken over after being judged stale).
      if (sameLock(await readLock(path), mine)) await unlink(path).catch(() => undefined)
    },
  }
}

/**
 * Remove what crashed acquisitions left next to the lock (called by the holder, right after taking
 * it): temp files (`_writer.lock.<token>.tmp`, a crash between creating one and unlinking it) and
 * set-aside locks (`_writer.lock.<token>.stale`, a crash while taking a stale lock over). Only files
 * that are provably stale by the lock's own rule (`isStale`) go: the lock they hold names a process of
 * this host and pid namespace that no longer runs, an earlier process with this pid, or a lease that
 * ran out (a set-aside live lock stays fresh: its holder refreshes that same file through its open
 * handle). Any other stays (it may be a live acquisition, or a set-aside lock being given back), as
 * does an unreadable one younger than `UNREADABLE_LEFTOVER_AGE_MS`. Returns the removed paths.
 */
async function removeStaleLeftovers(root: string, ownTmp: string, judge: Judge): Promise<string[]> {
  const removed: string[] = []
  for (const name of await readdir(root)) {
    const p = join(root, name)
    if (!LEFTOVER.test(name) || p === ownTmp) continue
    const info = await readLock(p)
    if (info === 'missing') continue
    if (info === undefined) {
      let mtimeMs: number
      try {
        mtimeMs = (await stat(p)).mtimeMs
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue
        throw e
      }
      if (Date.now() - mtimeMs < UNREADABLE_LEFTOVER_AGE_MS) continue
    } else if (!isStale(info, judge)) continue
    try {
      await unlink(p)
      removed.push(p)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    }
  }
  return removed
}
