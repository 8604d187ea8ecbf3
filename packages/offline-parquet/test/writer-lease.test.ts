import { spawnSync } from 'node:child_process'
import * as fsp from 'node:fs/promises'
import { readdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { InvalidDefinitionError } from '@skewless/core'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { LOCK_FILE, LogLockedError, parquetLog } from '../src/index.js'
import { FEATURES, mixedRecords } from './data.js'
import { deadPid, removeTempDirs, runFixture, tempDir } from './helpers.js'

afterAll(removeTempDirs)

const LEASE = 200
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** No pid namespace has inode 1: a namespace that is certainly not this process's. */
const OTHER_NS = 1

/** Write a lock by hand, as a writer of another host or pid namespace would, with its mtime `ageMs` ago. */
async function handLock(dir: string, lock: Record<string, unknown>, ageMs: number): Promise<void> {
  const body = { since: new Date().toISOString(), token: 'cd'.repeat(8), leaseMs: LEASE, ...lock }
  await writeFile(join(dir, LOCK_FILE), JSON.stringify(body))
  const t = new Date(Date.now() - ageMs)
  await utimes(join(dir, LOCK_FILE), t, t)
}
const open = (dir: string) => parquetLog({ features: FEATURES, dir, workers: 0, lockLeaseMs: LEASE })
const lockOnDisk = async (dir: string) => JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8'))

describe('writer lock lease: locks whose liveness cannot be checked', () => {
  it('a lock of another host is taken over once its lease ran out, and refuses the open while fresh', async () => {
    const dir = await tempDir()
    await handLock(dir, { pid: 1, host: `not-${hostname()}` }, 0)
    await expect(open(dir)).rejects.toBeInstanceOf(LogLockedError)

    await handLock(dir, { pid: 1, host: `not-${hostname()}` }, 3 * LEASE)
    const log = await open(dir)
    await log.append(mixedRecords(10))
    await expect(lockOnDisk(dir)).resolves.toMatchObject({
      pid: process.pid,
      host: hostname(),
      leaseMs: LEASE,
    })
    await log.close()
  })

  it("the longer of the two leases counts: the lock's own lease outlives a shorter one of the opener", async () => {
    const dir = await tempDir()
    await handLock(dir, { pid: 1, host: `not-${hostname()}`, leaseMs: 60_000 }, 3 * LEASE)
    await expect(open(dir)).rejects.toBeInstanceOf(LogLockedError)
  })

  it('a lock of this host but another pid namespace (containers sharing the host name) is not judged by its pid', async () => {
    const dir = await tempDir()
    // Its pid is dead here, but pids of another namespace cannot be checked from this one.
    await handLock(dir, { pid: deadPid(), host: hostname(), pidNs: OTHER_NS }, 0)
    await expect(open(dir)).rejects.toBeInstanceOf(LogLockedError)
    // Also not one with this process's pid (a restarted container gets the same small pid).
    await handLock(dir, { pid: process.pid, host: hostname(), pidNs: OTHER_NS }, 0)
    await expect(open(dir)).rejects.toBeInstanceOf(LogLockedError)

    // Its lease ran out: the writer is gone (or cut off) and a restarted one takes over.
    await handLock(dir, { pid: deadPid(), host: hostname(), pidNs: OTHER_NS }, 3 * LEASE)
    const log = await open(dir)
    expect(await lockOnDisk(dir)).toMatchObject({ pid: process.pid })
    await log.close()
  })

  it('a lock written before leases existed (never refreshed) keeps the old rule: another host is never taken over', async () => {
    const dir = await tempDir()
    await handLock(dir, { pid: 1, host: `not-${hostname()}`, leaseMs: undefined }, 3_600_000)
    await expect(open(dir)).rejects.toBeInstanceOf(LogLockedError)
  })

  it('lockLeaseMs must be a finite number > 0', async () => {
    const dir = await tempDir()
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(parquetLog({ features: FEATURES, dir, lockLeaseMs: bad })).rejects.toBeInstanceOf(
        InvalidDefinitionError,
      )
    }
    expect(await readdir(dir)).toEqual([])
  })
})

describe('writer lock lease: the holder', () => {
  it('refreshes the mtime of its lock while open, across several leases', async () => {
    const dir = await tempDir()
    const log = await open(dir)
    const first = (await stat(join(dir, LOCK_FILE))).mtimeMs
    for (let i = 0; i < 4; i++) {
      await sleep(LEASE)
      const age = Date.now() - (await stat(join(dir, LOCK_FILE))).mtimeMs
      expect(age).toBeLessThan(LEASE)
    }
    expect((await stat(join(dir, LOCK_FILE))).mtimeMs).toBeGreaterThan(first)
    // So a writer of another host (which judges by mtime) is refused all along.
    await expect(open(dir)).rejects.toBeInstanceOf(LogLockedError)
    await log.close()
  })

  it('whose lock was taken over fails its next append with LogLockedError, writes nothing visible, and refuses later writes', async () => {
    const dir = await tempDir()
    const log = await open(dir)
    await log.append(mixedRecords(20))
    const before = await log.listFiles()
    // Another writer took the lock over (e.g. this one was paused for longer than the lease).
    const theirs = { pid: 1, host: `not-${hostname()}`, since: 'now', token: 'ef'.repeat(8), leaseMs: LEASE }
    await writeFile(join(dir, 'other.tmp'), JSON.stringify(theirs))
    await rename(join(dir, 'other.tmp'), join(dir, LOCK_FILE))

    const err = await log.append(mixedRecords(20)).catch((e) => e)
    expect(err).toBeInstanceOf(LogLockedError)
    expect((err as LogLockedError).message).toContain('lost')
    expect(await log.listFiles()).toEqual(before)
    const all = await readdir(dir, { recursive: true })
    expect(all.filter((f) => f.includes('_tmp-') || f.includes('_journal/'))).toEqual([])
    await expect(log.append(mixedRecords(5))).rejects.toBeInstanceOf(LogLockedError)
    expect(() => log.write(mixedRecords(5))).toThrow(LogLockedError)
    await expect(log.compact()).rejects.toBeInstanceOf(LogLockedError)
    await log.close()
    // close() leaves the other writer's lock alone.
    expect(await lockOnDisk(dir)).toEqual(theirs)
  })

  it('whose lock file was deleted fails its next append with LogLockedError', async () => {
    const dir = await tempDir()
    const log = await open(dir)
    await unlink(join(dir, LOCK_FILE))
    await sleep(LEASE) // heartbeats run meanwhile
    await expect(log.append(mixedRecords(5))).rejects.toBeInstanceOf(LogLockedError)
    expect(await log.listFiles()).toEqual([])
    await log.close()
  })

  it('keeps running when refreshing the lock fails (EIO): no unhandled rejection, the next commit still checks the lock', async () => {
    const dir = await tempDir()
    const probe = await fsp.open(join(dir, 'probe'), 'w')
    const proto = Object.getPrototypeOf(probe) as { utimes: (...a: unknown[]) => Promise<void> }
    await probe.close()
    const spy = vi
      .spyOn(proto, 'utimes')
      .mockRejectedValue(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }))
    try {
      const log = await open(dir)
      await sleep(LEASE)
      expect(spy).toHaveBeenCalled()
      await log.append(mixedRecords(5)) // the lock is still ours: the commit goes through
      expect((await log.listFiles()).length).toBeGreaterThan(0)
      await log.close()
    } finally {
      spy.mockRestore()
    }
  })
})

const canUnshare = spawnSync('unshare', ['--pid', '--fork', 'true']).status === 0

describe('writer lock lease: a real second pid namespace on this host', () => {
  // Needs `unshare` with the right to create a pid namespace (root or CAP_SYS_ADMIN). The
  // hand-written locks above prove the same rule deterministically everywhere.
  it.skipIf(!canUnshare)(
    'a writer in another pid namespace (same host name) does not take over a live lock (skipped only where unshare --pid is not permitted)',
    async () => {
      const dir = await tempDir()
      const log = await open(dir)
      const out = await runFixture('lock-open.ts', [dir], ['unshare', '--pid', '--fork'])
      expect(JSON.parse(out)).toBe('locked')
      expect(await lockOnDisk(dir)).toMatchObject({ pid: process.pid })
      await log.append(mixedRecords(5))
      await log.close()
    },
    30_000,
  )
})
