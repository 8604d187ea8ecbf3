import type { FeatureWrite } from '@skewless/core'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { CommitFailedError, parquetLog } from '../src/index.js'
import { removeTempDirs, tempDir } from './helpers.js'
import { logRows, multiset } from './rows.js'

afterAll(removeTempDirs)

// Fault injection: the next commit fails while it extracts its columns, i.e. while it prepares,
// before it has written anything (as when allocating its buffers fails).
const fault = vi.hoisted(() => ({ failNext: false }))
vi.mock('../src/commit-columns.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/commit-columns.js')>()
  return {
    ...real,
    extractColumns: (...args: Parameters<typeof real.extractColumns>) => {
      if (fault.failNext) {
        fault.failNext = false
        throw new RangeError('Array buffer allocation failed')
      }
      return real.extractColumns(...args)
    },
  }
})

const T0 = Date.UTC(2026, 10, 1)
const batch = (k: number): FeatureWrite[] =>
  Array.from({ length: 5 }, (_, i) => ({
    entity: `e${i}`,
    feature: 'x',
    value: k * 10 + i,
    eventTime: T0 + k * 1000 + i,
    version: 0,
    availableTime: T0 + k * 1000 + i,
    outcome: 'applied',
  }))

describe('a commit that fails while it prepares, before writing any file', () => {
  it.each([0, 2])(
    'rejects its append with CommitFailedError; later appends commit and reads see exactly them (workers: %i)',
    async (workers) => {
      const dir = await tempDir()
      const log = await parquetLog({ dir, workers, features: { x: 'double' } })
      await log.append(batch(0))
      fault.failNext = true
      const failed = await log.append(batch(1)).catch((e: unknown) => e)
      expect(failed).toBeInstanceOf(CommitFailedError)
      expect((failed as CommitFailedError).cause).toBeInstanceOf(RangeError)
      await log.append(batch(2))
      const committed = [...batch(0), ...batch(2)]
      expect(await logRows(log)).toEqual(multiset(committed))
      await log.close()
      const again = await parquetLog({ dir, workers, features: { x: 'double' } })
      expect(again.recovery).toMatchObject({ tempFiles: [], replayedCommits: 0 })
      expect(await logRows(again)).toEqual(multiset(committed))
      await again.close()
    },
  )

  it('does not hold compaction back for good, also when a compaction fails the same way next', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ dir, workers: 0, features: { x: 'double' } })
    await log.append(batch(0))
    await log.append(batch(1))
    fault.failNext = true
    await expect(log.append(batch(2))).rejects.toBeInstanceOf(CommitFailedError)
    // The compaction reserves the next sequence numbers, then fails preparing its output.
    fault.failNext = true
    await expect(log.compact({ minFiles: 2 })).rejects.toBeInstanceOf(CommitFailedError)
    await log.append(batch(3))
    await log.append(batch(4))
    const committed = [...batch(0), ...batch(1), ...batch(3), ...batch(4)]
    expect(await logRows(log)).toEqual(multiset(committed))
    // Every file is below the settled sequence again: all four merge into one.
    expect(await log.compact({ minFiles: 2 })).toMatchObject({ filesIn: 4, filesOut: 1, rows: 20 })
    expect(await log.listFiles()).toHaveLength(1)
    expect(await logRows(log)).toEqual(multiset(committed))
    await log.close()
  })
})
