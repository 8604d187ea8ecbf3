// The log's files, directories and lock are never writable by group or others, whatever the umask
// (checked in a child process with umask 000 and 077); a symlinked root is followed, a symbolic link
// placed inside the directory is never written through.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FeatureWrite } from '@skewless/core'
import { afterAll, describe, expect, it } from 'vitest'
import { CommitFailedError, parquetLog } from '../src/index.js'
import { removeTempDirs, runFixture, tempDir } from './helpers.js'

afterAll(removeTempDirs)

const T0 = Date.UTC(2026, 10, 1)
const w = (value: number): FeatureWrite => ({
  entity: 'e',
  feature: 'x',
  value,
  eventTime: T0,
  version: value,
  availableTime: T0,
  outcome: 'applied',
})

async function modesUnder(umask: string): Promise<{ path: string; mode: number; dir: boolean }[]> {
  const dir = join(await tempDir(), 'log')
  const out = await runFixture('umask-writer.ts', [dir, umask])
  return out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
}

describe('file modes', () => {
  it('umask 000: every file, directory and the lock is at most rw-r--r-- / rwxr-xr-x', async () => {
    const entries = await modesUnder('000')
    const kinds = new Set(entries.map((e) => (e.path === '_writer.lock' ? 'lock' : e.dir ? 'dir' : 'file')))
    expect([...kinds].sort()).toEqual(['dir', 'file', 'lock']) // the listing saw all three kinds
    for (const e of entries) {
      expect({ path: e.path, mode: (e.mode & 0o022).toString(8) }).toEqual({ path: e.path, mode: '0' })
      expect({ path: e.path, mode: e.mode.toString(8) }).toEqual({
        path: e.path,
        mode: e.dir ? '755' : '644',
      })
    }
  })

  it('umask 077: the umask narrows them further (owner only)', async () => {
    for (const e of await modesUnder('077')) {
      expect({ path: e.path, mode: e.mode.toString(8) }).toEqual({
        path: e.path,
        mode: e.dir ? '700' : '600',
      })
    }
  })
})

describe('symbolic links', () => {
  it('a root that is a symlink is followed: the log lives where it points', async () => {
    const base = await tempDir()
    mkdirSync(join(base, 'real'))
    symlinkSync(join(base, 'real'), join(base, 'link'))
    const log = await parquetLog({ dir: join(base, 'link'), features: { x: 'double' }, workers: 0 })
    await log.append([w(1)])
    await log.close()
    expect(readdirSync(join(base, 'real'))).toContain('feature=x')
    const again = await parquetLog({ dir: join(base, 'real'), features: { x: 'double' }, readOnly: true })
    let rows = 0
    for await (const b of again.scan({ features: ['x'] })) rows += b.numRows
    expect(rows).toBe(1)
    await again.close()
  })

  it.each([
    ['a feature directory', 'feature=x'],
    ['a date directory', 'feature=x/date=2026-11-01'],
  ])(
    '%s replaced by a symlink to elsewhere: the commit fails with CommitFailedError, nothing is written there',
    async (_, rel) => {
      const base = await tempDir()
      const dir = join(base, 'log')
      const outside = join(base, 'outside')
      mkdirSync(outside)
      const log = await parquetLog({ dir, features: { x: 'double' }, workers: 0 })
      await log.append([w(1)])
      // Someone with write access to the directory swaps a partition directory for a link.
      rmSync(join(dir, rel), { recursive: true })
      mkdirSync(join(dir, rel, '..'), { recursive: true })
      symlinkSync(outside, join(dir, rel))
      const err = await log.append([w(2)]).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(CommitFailedError)
      expect(String((err as Error).message) + String((err as Error).cause ?? '')).toMatch(/symbolic link/)
      expect(readdirSync(outside)).toEqual([])
      await log.close().catch(() => undefined)
    },
  )

  it('a lock file replaced by a symlink to another file never changes that file', async () => {
    const base = await tempDir()
    const dir = join(base, 'log')
    mkdirSync(dir)
    const victim = join(base, 'victim.txt')
    writeFileSync(victim, 'precious')
    symlinkSync(victim, join(dir, '_writer.lock'))
    const log = await parquetLog({ dir, features: { x: 'double' }, workers: 0, lockLeaseMs: 1 }).catch(
      (e: unknown) => e,
    )
    if (!(log instanceof Error)) {
      await (log as Awaited<ReturnType<typeof parquetLog>>).append([w(1)])
      await (log as Awaited<ReturnType<typeof parquetLog>>).close()
    }
    expect(readFileSync(victim, 'utf8')).toBe('precious')
    expect(existsSync(victim)).toBe(true)
  })
})
