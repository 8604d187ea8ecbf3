import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { FeatureWrite } from '@skewless/core'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { CommitFailedError, LogUnwritableError, parquetLog } from '../src/index.js'
import { removeTempDirs, tempDir } from './helpers.js'

afterAll(removeTempDirs)

// Tests run as root, which no permission bit stops: a read-only file system (EROFS) and a full disk
// (ENOSPC) are injected at the file-system layer while armed; ENOTDIR is real.
const fault = vi.hoisted(() => ({ erofsUnder: '', enospc: false }))
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>()
  const open = (async (path: string, flags: unknown, mode?: number) => {
    const writing = flags !== undefined && flags !== 'r' && flags !== 0
    if (fault.erofsUnder && String(path).startsWith(fault.erofsUnder) && writing) {
      throw Object.assign(new Error(`EROFS: read-only file system, open '${path}'`), { code: 'EROFS' })
    }
    if (fault.enospc && String(path).includes('_tmp-') && writing) {
      throw Object.assign(new Error(`ENOSPC: no space left on device, open '${path}'`), { code: 'ENOSPC' })
    }
    return real.open(path, flags as never, mode)
  }) as typeof real.open
  return { ...real, default: { ...real, open }, open }
})

const rec = (entity: string): FeatureWrite => ({
  entity,
  feature: 'x',
  value: 1,
  eventTime: Date.UTC(2026, 10, 1),
  version: 0,
  availableTime: Date.UTC(2026, 10, 1) + 1,
  outcome: 'applied',
})

describe('a log directory that cannot be written', () => {
  it('a writable open on a read-only file system (EROFS) is a LogUnwritableError; a read-only open works', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ dir, features: { x: 'double' } })
    await log.append([rec('a')])
    await log.close()
    fault.erofsUnder = dir
    try {
      const err = await parquetLog({ dir, features: { x: 'double' } }).catch((e) => e)
      expect(err).toBeInstanceOf(LogUnwritableError)
      expect(err).toMatchObject({ code: 'log-unwritable', dir, errno: 'EROFS' })
      expect((err as Error).message).toMatch(/readOnly: true/)
      expect((err as Error).cause).toMatchObject({ code: 'EROFS' })
      const ro = await parquetLog({ dir, features: { x: 'double' }, readOnly: true })
      let rows = 0
      for await (const b of ro.scan({ features: ['x'] })) rows += b.numRows
      expect(rows).toBe(1)
    } finally {
      fault.erofsUnder = ''
    }
  })

  it('a path below a file (ENOTDIR) is a LogUnwritableError', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'plain-file'), 'x')
    const err = await parquetLog({ dir: join(dir, 'plain-file', 'log'), features: { x: 'double' } }).catch(
      (e) => e,
    )
    expect(err).toBeInstanceOf(LogUnwritableError)
    expect(err).toMatchObject({ errno: 'ENOTDIR' })
  })
})

describe('a background commit that failed (disk full), then the disk has room again', () => {
  it('the failure is reported once (flush rejects); later writes commit, and flush and close succeed', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ dir, workers: 0, features: { x: 'double' } })
    fault.enospc = true
    try {
      log.write([rec('lost')])
      await expect(log.flush()).rejects.toBeInstanceOf(CommitFailedError)
    } finally {
      fault.enospc = false
    }
    log.write([rec('later')])
    await log.flush()
    let rows = 0
    for await (const b of log.scan({ features: ['x'] })) rows += b.numRows
    expect(rows).toBe(1)
    await log.close()
  })

  it('marks are refused after the failed commit (its rows are not in the log) until readMarks(), then accepted', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ dir, workers: 0, features: { x: 'double' } })
    await log.appendMarked([rec('first')], { marks: { changelog: 1 } })
    fault.enospc = true
    try {
      log.write([rec('lost')])
      // shares the failing commit (group commit): rejected with it, its marks not recorded
      await expect(log.appendMarked([], { marks: { changelog: 2 } })).rejects.toBeInstanceOf(
        CommitFailedError,
      )
    } finally {
      fault.enospc = false
    }
    // the disk has room again, but these marks would claim the lost write: refused
    await expect(log.appendMarked([rec('next')], { marks: { changelog: 3 } })).rejects.toMatchObject({
      code: 'marks-refused',
    })
    expect(await log.readMarks()).toEqual({ changelog: 1 })
    await log.appendMarked([rec('again')], { marks: { changelog: 2 } })
    expect(await log.readMarks()).toEqual({ changelog: 2 })
    await log.close().catch(() => undefined) // the failed write is reported once, here or by flush
    const again = await parquetLog({ dir, features: { x: 'double' }, readOnly: true })
    expect(await again.readMarks()).toEqual({ changelog: 2 })
    let rows = 0
    for await (const b of again.scan({ features: ['x'] })) rows += b.numRows
    expect(rows).toBe(2)
  })

  it('a failure nobody has seen yet is still reported by close()', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ dir, workers: 0, features: { x: 'double' } })
    fault.enospc = true
    try {
      log.write([rec('lost')])
      await expect(log.close()).rejects.toBeInstanceOf(CommitFailedError)
    } finally {
      fault.enospc = false
    }
  })
})
