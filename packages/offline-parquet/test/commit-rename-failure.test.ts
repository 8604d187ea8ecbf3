import type { FeatureWrite } from '@skewless/core'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { CommitFailedError, parquetLog } from '../src/index.js'
import { removeTempDirs, tempDir } from './helpers.js'
import { logRows, multiset } from './rows.js'

afterAll(removeTempDirs)

// Fault injection: while armed, the n-th rename of a temp file to a `.parquet` name fails (a disk
// error part-way through a commit's renames, after its journal was written).
const fault = vi.hoisted(() => ({ failAt: 0 }))
vi.mock('../src/file-io.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/file-io.js')>()
  return {
    ...real,
    rename: async (src: string, dst: string) => {
      if (fault.failAt > 0 && dst.endsWith('.parquet') && --fault.failAt === 0) {
        throw Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO' })
      }
      return real.rename(src, dst)
    },
  }
})

const DAY = 86_400_000
const T0 = Date.UTC(2026, 10, 1)
/** One append that spans three days: a commit of three files, so it writes a journal. */
const batch: FeatureWrite[] = Array.from({ length: 9 }, (_, i) => ({
  entity: `e${i}`,
  feature: 'x',
  value: i,
  eventTime: T0 + (i % 3) * DAY + i,
  version: 0,
  availableTime: T0 + (i % 3) * DAY + i,
  outcome: 'applied',
}))

describe('a multi-file commit whose renames fail part-way (after its journal was written)', () => {
  it.each([0, 2])(
    'rejects its append, and the next open completes it from the journal: never a partial commit (workers: %i)',
    async (workers) => {
      const dir = await tempDir()
      const log = await parquetLog({ dir, workers, features: { x: 'double' } })
      fault.failAt = 2 // the first file is renamed, the second rename fails
      await expect(log.append(batch)).rejects.toBeInstanceOf(CommitFailedError)
      fault.failAt = 0
      await log.close()
      const again = await parquetLog({ dir, workers, features: { x: 'double' } })
      expect(again.recovery.replayedCommits).toBe(1)
      expect(await logRows(again)).toEqual(multiset(batch))
      await again.close()
    },
  )
})
