import { readdir, readFile, utimes, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { LOCK_FILE, LogLockedError, parquetLog } from '../src/index.js'
import { FEATURES, mixedRecords } from './data.js'
import { deadPid, removeTempDirs, runFixture, tempDir } from './helpers.js'

afterAll(removeTempDirs)

describe('one writer per directory', () => {
  it('a second writer is refused with LogLockedError while readers still open; close releases the lock', async () => {
    const dir = await tempDir()
    const writer = await parquetLog({ features: FEATURES, dir })
    await writer.append(mixedRecords(50))
    const lock = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8'))
    expect(lock.pid).toBe(process.pid)

    const second = await parquetLog({ features: FEATURES, dir }).catch((e) => e)
    expect(second).toBeInstanceOf(LogLockedError)
    expect((second as LogLockedError).code).toBe('log-locked')
    expect((second as LogLockedError).message).toContain(`pid ${process.pid}`)

    const reader = await parquetLog({ features: FEATURES, dir, readOnly: true })
    let rows = 0
    for await (const b of reader.scan({ features: Object.keys(FEATURES), includeStale: true }))
      rows += b.numRows
    expect(rows).toBe(50)
    await reader.close()

    await writer.close()
    const again = await parquetLog({ features: FEATURES, dir })
    await again.append(mixedRecords(10))
    await again.close()
  })

  it('a lock left by a process that is gone is taken over (crash, then restart)', async () => {
    const dir = await tempDir()
    // A pid that certainly ran and exited: a child we waited for.
    const dead = deadPid()
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: dead, host: hostname(), since: 'then' }))
    const log = await parquetLog({ features: FEATURES, dir })
    await log.append(mixedRecords(20))
    expect(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid)
    await log.close()
  })

  it('a lock held by another host is never taken over', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: `not-${hostname()}`, since: 'now' }))
    await expect(parquetLog({ features: FEATURES, dir })).rejects.toBeInstanceOf(LogLockedError)
  })

  it('a lock left by an earlier process with this same pid is taken over (a container restarts with the same pid)', async () => {
    const dir = await tempDir()
    const earlier = { pid: process.pid, host: hostname(), since: '2026-01-01T00:00:00.000Z' }
    await writeFile(join(dir, LOCK_FILE), JSON.stringify(earlier))
    const log = await parquetLog({ features: FEATURES, dir })
    const second = await parquetLog({ features: FEATURES, dir }).catch((e) => e)
    expect(second).toBeInstanceOf(LogLockedError)
    await log.close()
    // Two opens at once in one process: exactly one writer.
    const both = await Promise.allSettled([1, 2].map(() => parquetLog({ features: FEATURES, dir })))
    expect(both.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected'])
    for (const r of both) if (r.status === 'fulfilled') await r.value.close()
  })

  it('taking the lock removes lock temp files and set-aside locks that crashed acquisitions left, and only provably stale ones', async () => {
    const dir = await tempDir()
    const dead = deadPid()
    const lockOf = (pid: number, host = hostname()) =>
      JSON.stringify({ pid, host, since: '2026-01-01T00:00:00.000Z', token: 'ab'.repeat(8) })
    const name = (hex: string, kind: 'tmp' | 'stale') => `${LOCK_FILE}.${hex.repeat(16 / hex.length)}.${kind}`
    const stale = {
      [name('1', 'tmp')]: lockOf(dead), // crashed between creating its temp file and linking it
      [name('2', 'stale')]: lockOf(dead), // crashed after setting a dead process's lock aside
      [name('3', 'tmp')]: lockOf(process.pid), // an earlier process with this pid (token not held)
      [name('4', 'tmp')]: '', // torn by a crash, long ago (mtime set below)
    }
    const live = {
      [name('5', 'tmp')]: lockOf(process.ppid), // a live process of this host, maybe acquiring now
      [name('6', 'stale')]: lockOf(1, `not-${hostname()}`), // another host: liveness unknown
      [name('7', 'tmp')]: '', // unreadable but fresh: maybe created and not yet written
      [`${LOCK_FILE}.notes`]: 'not ours',
    }
    for (const [f, body] of Object.entries({ ...stale, ...live })) await writeFile(join(dir, f), body)
    const hourAgo = new Date(Date.now() - 3_600_000)
    await utimes(join(dir, name('4', 'tmp')), hourAgo, hourAgo)

    const log = await parquetLog({ features: FEATURES, dir })
    const left = (await readdir(dir)).filter((f) => f.startsWith(`${LOCK_FILE}.`)).sort()
    expect(left).toEqual(Object.keys(live).sort())
    expect(log.recovery.tempFiles.sort()).toEqual(
      Object.keys(stale)
        .map((f) => join(dir, f))
        .sort(),
    )
    await log.close()
  })

  it('processes racing for the lock never hold it at the same time', async () => {
    const dir = await tempDir()
    const run = async (): Promise<{ held: number; overlaps: number; errors: number }> =>
      JSON.parse(await runFixture('lock-contender.ts', [dir, '3000']))
    const results = await Promise.all([run(), run(), run()])
    expect(results.reduce((n, r) => n + r.held, 0)).toBeGreaterThan(10)
    expect(results.map((r) => r.overlaps)).toEqual([0, 0, 0])
    expect(results.map((r) => r.errors)).toEqual([0, 0, 0])
  }, 30_000)
})

describe('one writer per directory, across the threads of a process', () => {
  it('a worker thread (same pid, its own copy of this module) cannot open a second writer', async () => {
    const dir = await tempDir()
    const out = await runFixture('lock-threads.ts', [dir])
    expect(JSON.parse(out)).toBe('locked')
  }, 30_000)
})
