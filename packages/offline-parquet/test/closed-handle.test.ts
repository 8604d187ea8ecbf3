import type { FeatureWrite } from '@skewless/core'
import { afterAll, describe, expect, it } from 'vitest'
import { parquetLog } from '../src/index.js'
import { FEATURES, mixedRecords } from './data.js'
import { removeTempDirs, tempDir } from './helpers.js'
import { multiset } from './rows.js'

afterAll(removeTempDirs)

const features = Object.keys(FEATURES)

async function all(log: Awaited<ReturnType<typeof parquetLog>>): Promise<FeatureWrite[]> {
  const out: FeatureWrite[] = []
  for await (const b of log.scanRows({ features, includeStale: true })) out.push(...b)
  return out
}

describe('a closed writer handle reads on after another writer compacted', () => {
  it('follows the newer manifest instead of reporting the compacted files missing', async () => {
    const dir = await tempDir()
    const records = mixedRecords(300)
    const first = await parquetLog({ dir, features: FEATURES })
    for (let i = 0; i < records.length; i += 50) await first.append(records.slice(i, i + 50))
    const before = multiset(await all(first))
    await first.close()
    const second = await parquetLog({ dir, features: FEATURES })
    const c = await second.compact()
    expect(c.filesIn).toBeGreaterThan(c.filesOut)
    await second.close()
    // The quickstart does exactly this: it reads through the handle the pipeline closed.
    expect(multiset(await all(first))).toEqual(before)
    const end = await first.stateAt(Number.MAX_SAFE_INTEGER, { features })
    expect(end.length).toBeGreaterThan(0)
  })
})
