import { readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { FeatureWrite } from '@skewless/core'
import { afterAll, describe, expect, it } from 'vitest'
import { CommitFailedError, parquetLog } from '../src/index.js'
import { removeTempDirs, tempDir } from './helpers.js'

afterAll(removeTempDirs)

const DAY = 86_400_000
const T0 = Date.UTC(2026, 10, 1)
const rec = (entity: string, eventTime: number): FeatureWrite => ({
  entity,
  feature: 'x',
  value: 1,
  eventTime,
  version: 0,
  availableTime: eventTime,
  outcome: 'applied',
})

describe('a partition directory deleted under a live writer (e.g. a retention job removing a day)', () => {
  it.each([0, 2])(
    'a late record for that day is committed again; the deleted file is reported missing until its loss is accepted (workers: %i)',
    async (workers) => {
      const dir = await tempDir()
      const log = await parquetLog({ dir, workers, features: { x: 'double' } })
      await log.append([rec('old', T0)])
      const [old] = await log.listFiles()
      await rm(join(dir, 'feature=x/date=2026-11-01'), { recursive: true })
      // One commit: the late record's file first, then files of 30 other days.
      const batch = [rec('late', T0 + 5)]
      for (let d = 1; d <= 30; d++) for (let i = 0; i < 200; i++) batch.push(rec(`e${i}`, T0 + d * DAY + i))
      await log.append(batch)
      const scanAll = async (l: typeof log) => {
        let rows = 0
        for await (const b of l.scan({ features: ['x'] })) rows += b.numRows
        return rows
      }
      const lost = (old as string).slice(dir.length + 1)
      await expect(scanAll(log)).rejects.toMatchObject({ code: 'missing-file', path: lost })
      await log.close()
      const again = await parquetLog({ dir, workers, features: { x: 'double' }, acceptLostFiles: [lost] })
      expect(await scanAll(again)).toBe(batch.length)
      await again.close()
    },
  )
})

describe('a file write that fails while the commit still prepares its other files', () => {
  it.each([0, 2])(
    'rejects that append with CommitFailedError, with no unhandled rejection, and the log goes on (workers: %i)',
    async (workers) => {
      const dir = await tempDir()
      const log = await parquetLog({ dir, workers, features: { x: 'double' } })
      await log.append([rec('first', T0)])
      const part = join(dir, 'feature=x/date=2026-11-01')
      const writer = /^part-([A-Za-z0-9]+)-/.exec((await readdir(part))[0] as string)?.[1]
      // The next commit's first file (sequence 1) finds its temp name taken: its write fails.
      await writeFile(join(part, `_tmp-${writer}-1.tmp`), 'in the way')
      const batch = [rec('late', T0 + 5)]
      for (let d = 1; d <= 30; d++) for (let i = 0; i < 200; i++) batch.push(rec(`e${i}`, T0 + d * DAY + i))
      await expect(log.append(batch)).rejects.toBeInstanceOf(CommitFailedError)
      await log.append(batch)
      let rows = 0
      for await (const b of log.scan({ features: ['x'] })) rows += b.numRows
      expect(rows).toBe(1 + batch.length)
      await log.close()
    },
  )
})
