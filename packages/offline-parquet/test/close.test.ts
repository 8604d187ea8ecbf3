import type { FeatureWrite } from '@skewless/core'
import { afterAll, describe, expect, it } from 'vitest'
import { parquetLog } from '../src/index.js'
import { removeTempDirs, tempDir } from './helpers.js'

afterAll(removeTempDirs)

const T0 = Date.UTC(2026, 10, 1)
const recs = (n: number, tag: string): FeatureWrite[] =>
  Array.from({ length: n }, (_, i) => ({
    entity: `${tag}${i}`,
    feature: 'x',
    value: i,
    eventTime: T0 + i,
    version: 0,
    availableTime: T0 + i,
    outcome: 'applied',
  }))

describe('close()', () => {
  it.each([0, 2])(
    'an append made while close() runs is refused, or committed before close() resolves (workers: %i)',
    async (workers) => {
      const dir = await tempDir()
      const log = await parquetLog({ dir, workers, features: { x: 'double' } })
      const events: string[] = []
      const first = log.append(recs(1000, 'a'))
      // Appended while close() is flushing: after the first append resolved, before close() resolved.
      const second = first
        .then(() => log.append(recs(10, 'b')))
        .then(
          () => events.push('second committed'),
          (e) => events.push(`second refused: ${(e as { code?: string }).code}`),
        )
      await log.close()
      events.push('closed')
      await second
      expect([
        ['second committed', 'closed'],
        ['second refused: closed', 'closed'],
      ]).toContainEqual(events)
      const again = await parquetLog({ dir, readOnly: true, features: { x: 'double' } })
      let rows = 0
      for await (const b of again.scan({ features: ['x'] })) rows += b.numRows
      expect(rows).toBe(events[0] === 'second committed' ? 1010 : 1000)
      expect(again.recovery.tempFiles).toEqual([])
    },
  )
})
