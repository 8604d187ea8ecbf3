import { readdirSync } from 'node:fs'
import * as fsp from 'node:fs/promises'
import type { FeatureWrite } from '@skewless/core'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { parquetLog } from '../src/index.js'
import { removeTempDirs, tempDir } from './helpers.js'

vi.mock('node:fs/promises', async (importOriginal) => {
  const m = await importOriginal<typeof import('node:fs/promises')>()
  return { ...m, readdir: vi.fn(m.readdir) }
})

afterAll(removeTempDirs)

const T0 = Date.UTC(2026, 10, 1)
const rec = (entity: string): FeatureWrite => ({
  entity,
  feature: 'x',
  value: 1,
  eventTime: T0,
  version: 0,
  availableTime: T0,
  outcome: 'applied',
})
const openFds = () => readdirSync('/proc/self/fd').length

describe('descriptors on error paths', () => {
  it('a scan whose second listing of a partition fails (EMFILE, EIO) closes the files it pinned', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ dir, workers: 0, features: { x: 'double' } })
    for (let i = 0; i < 20; i++) await log.append([rec(`e${i}`)])
    const before = openFds()
    const readdir = vi.mocked(fsp.readdir)
    const real = readdir.getMockImplementation() as typeof fsp.readdir
    let calls = 0
    readdir.mockImplementation(((path: string, ...rest: unknown[]) => {
      // 1: feature=x (its date= directories), 2: the partition, 3: the partition again (after pinning)
      if (++calls === 3) return Promise.reject(Object.assign(new Error('EMFILE'), { code: 'EMFILE' }))
      return (real as (...a: unknown[]) => unknown)(path, ...rest)
    }) as typeof fsp.readdir)
    try {
      await expect(
        (async () => {
          for await (const _ of log.scan({ features: ['x'] })) {
            // reading only
          }
        })(),
      ).rejects.toMatchObject({ code: 'EMFILE' })
    } finally {
      readdir.mockImplementation(real)
    }
    expect(openFds()).toBe(before)
    await log.close()
  })
})
