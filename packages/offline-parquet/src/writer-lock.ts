/**
 * One writer per log directory. Opening a log for writing recovers from crashes by deleting temp
 * files and replaying journals, which would destroy the in-progress commits of another live writer.
 * So a writer holds `_writer.lock` (created exclusively, holding its pid and host) until `close()`.
 * A lock left by a process that no longer runs on this host is stale and taken over; a lock of a
 * live process, or of another host (whose liveness cannot be checked), refuses the open.
 *
 * Several writers (e.g. one per entity partition) each get their own directory, such as
 * `root/partition=3/`; DuckDB's `read_parquet('root/**\/*.parquet', hive_partitioning=true)` reads them all.
 */

import { randomBytes } from 'node:crypto'
import { link, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { threadId } from 'node:worker_threads'
import { LogLockedError } from './errors.js'
import { fsyncDir } from './file-io.js'

/** Name of the lock file in the log directory (leading `_`: ignored by Hive-style readers). */
export const LOCK_FILE = '_writer.lock'

interface LockInfo {
  pid: number
  host: string
  since: string
  /** Random per lock: tells this lock from an earlier one of the same pid (pids are reused). */
  token?: string
  /** Worker thread id of the holder (0: main thread): `heldTokens` only knows this thread's locks. */
  thread?: number
}

/** A held lock; `release()` removes it. */
export interface WriterLock {
  readonly path: string
  /** The stale lock that was taken over, if any. */
  readonly tookOver?: LockInfo
  /** Temp and set-aside files of earlier lock acquisitions that a crash interrupted, removed (see `removeStaleLeftovers`). */
  readonly leftoversRemoved: string[]
  release(): Promise<void>
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
 * Tokens of the locks this thread holds or is taking, shared by every copy of this module loaded in
 * it (ESM and CJS builds): a lock naming this pid and thread whose token is not in here was left by
 * an earlier process that had the same pid — usual when a container restarts, where the writer gets
 * the same small pid each time. (A lock of another worker thread of this process: see `isStale`.)
 */
const HELD_KEY = Symbol.for('skewless.offline-parquet.held-lock-tokens')
const registry = globalThis as Record<symbol, Set<string> | undefined>
registry[HELD_KEY] ??= new Set()
const heldTokens = registry[HELD_KEY]

type ReadLock = LockInfo | undefined | 'missing'
const sameLock = (a: ReadLock, b: ReadLock) =>
  typeof a !== 'object' || typeof b !== 'object'
    ? a === b
    : a.pid === b.pid && a.host === b.host && a.since === b.since && a.token === b.token

/**
 * Take the directory's writer lock or throw `LogLockedError`.
 *
 * The lock's content is written and fsynced under a unique temporary name first and then linked to
 * `_writer.lock` (`link` fails if the name exists), so another process never reads a lock that a
 * live writer has created but not written yet (and mistakes it for one torn by a crash). A stale
 * lock is taken over by renaming it aside and checking that what was moved is the stale lock that
 * was read: a writer that took it over just before gets its lock back.
 */
export async function acquireWriterLock(root: string): Promise<WriterLock> {
  const path = join(root, LOCK_FILE)
  const mine: LockInfo = {
    pid: process.pid,
    host: hostname(),
    since: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
    thread: threadId,
  }
  const tmp = `${path}.${mine.token}.tmp`
  let tookOver: LockInfo | undefined
  const token = mine.token as string
  // Before the temp file exists: another open of this process must see its pid and token as held at
  // once, both in the lock and in the temp file (which `removeStaleLeftovers` would otherwise remove).
  heldTokens.add(token)
  let acquired = false
  let created = false
  try {
    const fh = await open(tmp, 'wx')
    created = true
    try {
      await fh.writeFile(JSON.stringify(mine))
      await fh.sync()
    } finally {
      await fh.close()
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(tmp, path)
        let leftoversRemoved: string[]
        try {
          await fsyncDir(root)
          leftoversRemoved = await removeStaleLeftovers(root, tmp)
        } catch (e) {
          await unlink(path).catch(() => undefined) // not taken after all: leave no lock behind
          throw e
        }
        acquired = true
        let released = false
        return {
          path,
          ...(tookOver ? { tookOver } : {}),
          leftoversRemoved,
          async release() {
            if (released) return
            released = true
            heldTokens.delete(token)
            // Never delete a lock that is no longer ours (taken over after being judged stale).
            if (sameLock(await readLock(path), mine)) await unlink(path).catch(() => undefined)
          },
        }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      }
      const current = await readLock(path)
      if (current === 'missing') continue // released meanwhile: try again
      if (current !== undefined && !isStale(current)) {
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
    if (!acquired) heldTokens.delete(token)
    if (created) await unlink(tmp).catch(() => undefined)
  }
}

/**
 * Remove what crashed acquisitions left next to the lock (called by the holder, right after taking
 * it): temp files (`_writer.lock.<token>.tmp`, a crash between creating one and unlinking it) and
 * set-aside locks (`_writer.lock.<token>.stale`, a crash while taking a stale lock over). Only files
 * that are provably stale by the lock's own rule go: the lock they hold names a process of this host
 * that no longer runs, or an earlier process with this pid. A file naming a live process or another
 * host stays (it may be a live acquisition, or a set-aside lock being given back), as does an
 * unreadable one younger than `UNREADABLE_LEFTOVER_AGE_MS`. Returns the removed paths.
 */
async function removeStaleLeftovers(root: string, ownTmp: string): Promise<string[]> {
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
    } else if (!isStale(info)) continue
    try {
      await unlink(p)
      removed.push(p)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    }
  }
  return removed
}

/** The lock at `path`; `undefined` when it is unreadable, `'missing'` when there is none. */
async function readLock(path: string): Promise<LockInfo | undefined | 'missing'> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'missing'
    return undefined
  }
  try {
    const v = JSON.parse(text) as Partial<LockInfo>
    if (typeof v.pid !== 'number' || typeof v.host !== 'string') return undefined
    return {
      pid: v.pid,
      host: v.host,
      since: String(v.since),
      ...(typeof v.token === 'string' ? { token: v.token } : {}),
      ...(typeof v.thread === 'number' ? { thread: v.thread } : {}),
    }
  } catch {
    return undefined
  }
}

function isStale(lock: LockInfo): boolean {
  if (lock.host !== hostname()) return false
  // This pid: held by another open log of this process, or left by an earlier process with this pid.
  if (lock.pid === process.pid) {
    if (lock.token !== undefined && heldTokens.has(lock.token)) return false
    // `heldTokens` only knows this thread's locks (a worker thread has its own globalThis): a lock of
    // another thread is an earlier process's only if it was taken before this process started.
    if (lock.thread !== undefined && lock.thread !== threadId) {
      const since = Date.parse(lock.since)
      return Number.isNaN(since) || since < Date.now() - process.uptime() * 1000
    }
    return true
  }
  try {
    process.kill(lock.pid, 0)
    return false
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH'
  }
}
