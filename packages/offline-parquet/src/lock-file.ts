/**
 * The writer lock's file: what it records, how it is read from disk, and whether a lock is stale
 * (`isStale`). Taking, holding and releasing the lock is `writer-lock.ts`.
 */
import { type FileHandle, open, stat } from 'node:fs/promises'
import { hostname } from 'node:os'
import { threadId } from 'node:worker_threads'

export interface LockInfo {
  pid: number
  host: string
  since: string
  /** Random per lock: tells this lock from an earlier one of the same pid (pids are reused). */
  token?: string
  /** Worker thread id of the holder (0: main thread): `heldTokens` only knows this thread's locks. */
  thread?: number
  /**
   * The holder refreshes the lock's mtime well within this many ms. Absent in locks of versions
   * before the lease, which never refresh it: those are judged by the pid and host only.
   */
  leaseMs?: number
  /** Pid namespace of the holder (Linux: inode of `/proc/self/ns/pid`); absent where unknown. */
  pidNs?: number
}

/** A lock as read from disk: its content and the mtime its holder refreshes. */
export interface ReadLockInfo extends LockInfo {
  mtimeMs: number
}

/** Settings and identity of the process judging a lock. */
export interface Judge {
  leaseMs: number
  pidNs: number | undefined
}

let pidNsOfProcess: Promise<number | undefined> | undefined
/** This process's pid namespace (the inode of `/proc/self/ns/pid`), or `undefined` where there is none. */
export function pidNamespace(): Promise<number | undefined> {
  pidNsOfProcess ??=
    process.platform === 'linux'
      ? stat('/proc/self/ns/pid').then(
          (s) => s.ino,
          () => undefined,
        )
      : Promise.resolve(undefined)
  return pidNsOfProcess
}

/**
 * Tokens of the locks this thread holds or is taking, shared by every copy of this module loaded in
 * it (ESM and CJS builds): a lock naming this pid and thread whose token is not in here was left by
 * an earlier process that had the same pid — usual when a container restarts, where the writer gets
 * the same small pid each time. (A lock of another worker thread of this process: see `isStale`.)
 */
const HELD_KEY = Symbol.for('skewless.offline-parquet.held-lock-tokens')
const registry = globalThis as Record<symbol, Set<string> | undefined>
registry[HELD_KEY] ??= new Set()
export const heldTokens = registry[HELD_KEY]

type ReadLock = ReadLockInfo | LockInfo | undefined | 'missing'
export const sameLock = (a: ReadLock, b: ReadLock) =>
  typeof a !== 'object' || typeof b !== 'object'
    ? a === b
    : a.pid === b.pid && a.host === b.host && a.since === b.since && a.token === b.token

/**
 * The lock at `path` with its mtime; `undefined` when it is unreadable, `'missing'` when there is
 * none. Content and mtime come from one open file (one inode), and opening makes NFS revalidate the
 * cached attributes (close-to-open consistency), so the mtime is the one the holder last set.
 */
export async function readLock(path: string): Promise<ReadLockInfo | undefined | 'missing'> {
  let fh: FileHandle
  try {
    fh = await open(path, 'r')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'missing'
    return undefined
  }
  try {
    const [st, text] = await Promise.all([fh.stat(), fh.readFile('utf8')])
    const info = parseLock(text)
    return info && { ...info, mtimeMs: st.mtimeMs }
  } catch {
    return undefined
  } finally {
    await fh.close().catch(() => undefined)
  }
}

export function parseLock(text: string): LockInfo | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockInfo>
    if (typeof v.pid !== 'number' || typeof v.host !== 'string') return undefined
    return {
      pid: v.pid,
      host: v.host,
      since: String(v.since),
      ...(typeof v.token === 'string' ? { token: v.token } : {}),
      ...(typeof v.thread === 'number' ? { thread: v.thread } : {}),
      ...(typeof v.leaseMs === 'number' && v.leaseMs > 0 ? { leaseMs: v.leaseMs } : {}),
      ...(typeof v.pidNs === 'number' ? { pidNs: v.pidNs } : {}),
    }
  } catch {
    return undefined
  }
}

/**
 * Whether a lock is stale. Its process can be checked only from the same host and pid namespace (a
 * pid means another process, or none, in another namespace): then a gone process makes it stale at
 * once. Otherwise it is stale when its holder has not refreshed it for longer than the lease (the
 * longer of its own and ours, so writers with different settings agree), which also covers a
 * restarted container (a new pid namespace) taking over the lock of its crashed predecessor. Clocks
 * of hosts sharing the directory must agree within much less than the lease. A lock without a lease
 * (an earlier version, which never refreshes it) keeps the old rule: only a gone process of this host.
 */
export function isStale(lock: ReadLockInfo, judge: Judge): boolean {
  if (lock.leaseMs !== undefined && (lock.host !== hostname() || lock.pidNs !== judge.pidNs)) {
    return Date.now() - lock.mtimeMs > Math.max(lock.leaseMs, judge.leaseMs)
  }
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
