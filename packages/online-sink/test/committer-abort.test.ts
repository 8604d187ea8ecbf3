import { AbortedError, type FeatureUpdate, type FeatureWrite } from '@skewless/core'
import { memoryLog } from '@skewless/offline-log'
import { describe, expect, it } from 'vitest'
import { changelogCommitter, memoryStore, onlineSink } from '../src/index.js'

const features = [{ name: 'x', valueType: 'double' as const, strategy: 'cas' as const }]

async function logged(log: ReturnType<typeof memoryLog>): Promise<FeatureWrite[]> {
  const out: FeatureWrite[] = []
  for await (const b of log.scanRows({ features: ['x'], includeStale: true })) out.push(...b)
  return out
}

describe('changelogCommitter.close({ signal })', () => {
  it('aborted from inside its last drain: AbortedError, what was committed stays, the next committer moves the rest exactly once', async () => {
    const store = memoryStore({ changelog: true })
    const sink = onlineSink({ store, features, logger: false })
    const updates: FeatureUpdate[] = Array.from({ length: 50 }, (_, i) => ({
      entity: `e${i}`,
      feature: 'x',
      value: i,
      eventTime: 1_000_000 + i,
      version: 1,
    }))
    await sink.write(updates)
    await sink.flush()
    const log = memoryLog({ features: { x: 'double' } })
    const ac = new AbortController()
    let commits = 0
    const aborting = {
      ...log,
      appendMarked: async (...a: Parameters<typeof log.appendMarked>) => {
        await log.appendMarked(...a)
        if (++commits === 1) ac.abort('deadline')
      },
    }
    const first = changelogCommitter({
      store,
      log: aborting,
      interval: 0,
      pageSize: 10,
      maxWritesPerCommit: 10,
    })
    const err = await first.close({ signal: ac.signal }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AbortedError)
    expect((err as AbortedError).cause).toBe('deadline')
    const part = (await logged(log)).length
    expect(part).toBeGreaterThan(0)
    expect(part).toBeLessThan(50)
    const second = changelogCommitter({ store, log, interval: 0 })
    await second.close()
    const all = await logged(log)
    expect(all.map((w) => w.entity).sort()).toEqual(updates.map((u) => u.entity).sort())
    await sink.close()
  })
})
