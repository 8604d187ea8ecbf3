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

import { open, readFile, unlink } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { LogLockedError } from './errors.js'

/** Name of the lock file in the log directory (leading `_`: ignored by Hive-style readers). */
export const LOCK_FILE = '_writer.lock'

interface LockInfo {
  pid: number
  host: string
  since: string
}

/** A held lock; `release()` removes it. */
export interface WriterLock {
  readonly path: string
  /** The stale lock that was taken over, if any. */
  readonly tookOver?: LockInfo
  release(): Promise<void>
}

/** Take the directory's writer lock or throw `LogLockedError`. */
export async function acquireWriterLock(root: string): Promise<WriterLock> {
  const path = join(root, LOCK_FILE)
  const mine: LockInfo = { pid: process.pid, host: hostname(), since: new Date().toISOString() }
  let tookOver: LockInfo | undefined
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx')
      try {
        await fh.writeFile(JSON.stringify(mine))
        await fh.sync()
      } finally {
        await fh.close()
      }
      let released = false
      return {
        path,
        ...(tookOver ? { tookOver } : {}),
        async release() {
          if (released) return
          released = true
          await unlink(path).catch(() => undefined)
        },
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    }
    const held = await readLock(path)
    if (held !== undefined && !isStale(held)) {
      throw new LogLockedError(root, `${held.host} pid ${held.pid} since ${held.since}`)
    }
    // Stale (dead process on this host) or unreadable (torn by a crash while being written).
    tookOver = held
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err
    })
  }
  throw new LogLockedError(root, 'another process took the lock while this one was taking over a stale lock')
}

async function readLock(path: string): Promise<LockInfo | undefined> {
  try {
    const v = JSON.parse(await readFile(path, 'utf8')) as Partial<LockInfo>
    if (typeof v.pid !== 'number' || typeof v.host !== 'string') return undefined
    return { pid: v.pid, host: v.host, since: String(v.since) }
  } catch {
    return undefined
  }
}

function isStale(lock: LockInfo): boolean {
  if (lock.host !== hostname()) return false
  if (lock.pid === process.pid) return false // this process: another open log instance still holds it
  try {
    process.kill(lock.pid, 0)
    return false
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH'
  }
}
