import {
  arraySource,
  count,
  createPipeline,
  defineFeatures,
  type FeatureWrite,
  hopping,
  InvalidDefinitionError,
  manualClock,
  offsetSource,
} from '@skewless/core'
import { memoryLog } from '@skewless/offline-log'
import { describe, expect, it } from 'vitest'
import { changelogCommitter, memoryStore, onlineFeatures, onlineSink } from '../src/index.js'

interface Ev {
  user: string
  ts: number
}
const features = defineFeatures<Ev>({
  entity: (e) => e.user,
  eventTime: (e) => e.ts,
  features: { clicks: { window: hopping(4000, 1000), aggregate: count() } },
})
const online = onlineFeatures(features.describe())
const events = (n: number): Ev[] =>
  Array.from({ length: n }, (_, i) => ({ user: `u${i % 5}`, ts: 10_000 + i * 100 }))

/** One event every 2 ms, `n` in all, one per batch: a run long enough for periodic checkpoints. */
const slowSource = (n: number) =>
  offsetSource(
    'slow',
    async function* (from: number) {
      for (let i = from; i < n; i++) {
        yield { user: 'a', ts: 10_000 + i }
        await new Promise((r) => setTimeout(r, 2))
      }
    },
    { batchSize: 1 },
  )

async function rows(log: ReturnType<typeof memoryLog>): Promise<FeatureWrite[]> {
  const out: FeatureWrite[] = []
  for await (const b of log.scanRows({ features: ['clicks'], includeStale: true })) out.push(...b)
  return out
}

describe('changelogCommitter', () => {
  it('refuses a store without a changelog, and a log without marks', () => {
    const log = memoryLog({ features: features.describe() })
    expect(() => changelogCommitter({ store: memoryStore(), log })).toThrow(InvalidDefinitionError)
    expect(() => changelogCommitter({ store: memoryStore(), log })).toThrow(/changelog: true/)
    const store = memoryStore({ changelog: true })
    expect(() => changelogCommitter({ store, log: {} as never })).toThrow(InvalidDefinitionError)
    expect(() => changelogCommitter({ store, log, intervalMs: -1 })).toThrow(InvalidDefinitionError)
  })

  it('moves exactly the applied writes into the log with the store time (next ms), then trims what the log holds', async () => {
    const clock = manualClock(50_000)
    const store = memoryStore({ changelog: true, clock })
    const log = memoryLog({ features: features.describe() })
    const committer = changelogCommitter({ store, log, intervalMs: 0, pageSize: 2 })
    const fm = new Map(online.map((f) => [f.name, f]))
    const u = (entity: string, eventTime: number, version: number) => ({
      entity,
      feature: 'clicks',
      value: version,
      eventTime,
      version,
    })
    await store.apply([u('a', 1000, 1), u('b', 1000, 1), u('c', 1000, 1)], fm)
    clock.advance(10)
    // The older write of a is rejected (stale) and never logged.
    const r = await store.apply([u('a', 900, 5), u('b', 2000, 2)], fm)
    expect(r.outcomes).toEqual(['stale', 'applied'])
    await committer.drain()
    const got = await rows(log)
    expect(got.map((w) => [w.entity, w.eventTime, w.availableTime, w.outcome])).toEqual([
      ['a', 1000, 50_001, 'applied'],
      ['b', 1000, 50_001, 'applied'],
      ['b', 2000, 50_011, 'applied'],
      ['c', 1000, 50_001, 'applied'],
    ])
    expect(store.changelogLength()).toBe(0)
    expect((await log.readMarks()).changelog).toBeDefined()
    // Nothing new: another drain logs nothing twice.
    await committer.drain()
    expect(await rows(log)).toHaveLength(4)
    expect(committer.metrics()).toMatchObject({ writes: 4, checkpoints: 0 })
    await committer.close()
  })

  it('a second committer on the same log resumes after the position the log recorded', async () => {
    const store = memoryStore({ changelog: true })
    const log = memoryLog({ features: features.describe() })
    const sink = onlineSink({ store, features: online })
    const first = changelogCommitter({ store, log, intervalMs: 0 })
    const p1 = createPipeline({ source: arraySource('e', events(20)), features, sink, checkpoints: first })
    await p1.run()
    const n = (await rows(log)).length
    expect(n).toBeGreaterThan(0)
    // The changelog was trimmed; a new committer (a restarted process) must not re-log anything.
    const second = changelogCommitter({ store, log, intervalMs: 0 })
    await second.drain()
    expect(await rows(log)).toHaveLength(n)
    await sink.close()
  })

  it('background drains keep the log close behind the store without a checkpoint', async () => {
    const store = memoryStore({ changelog: true })
    const log = memoryLog({ features: features.describe() })
    const committer = changelogCommitter({ store, log, intervalMs: 5 })
    const sink = onlineSink({ store, features: online })
    sink.write([{ entity: 'a', feature: 'clicks', value: 1, eventTime: 1000, version: 1 }])
    await sink.flush()
    const deadline = Date.now() + 5000
    while ((await rows(log)).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
    expect(await rows(log)).toHaveLength(1)
    await committer.close()
    await sink.close()
  })

  it('a log commit that fails is retried from the position the log really holds', async () => {
    const store = memoryStore({ changelog: true })
    const log = memoryLog({ features: features.describe() })
    let fail = true
    const flaky = {
      appendMarked: (b: readonly FeatureWrite[], o: Parameters<typeof log.appendMarked>[1]) => {
        if (fail) {
          fail = false
          // The commit lands, then the caller hears a failure (a lost acknowledgement).
          return log.appendMarked(b, o).then(() => Promise.reject(new Error('lost ack')))
        }
        return log.appendMarked(b, o)
      },
      readMarks: () => log.readMarks(),
    }
    const committer = changelogCommitter({ store, log: flaky, intervalMs: 0 })
    const sink = onlineSink({ store, features: online })
    sink.write([{ entity: 'a', feature: 'clicks', value: 1, eventTime: 1000, version: 1 }])
    await sink.flush()
    await expect(committer.drain()).rejects.toThrow('lost ack')
    sink.write([{ entity: 'b', feature: 'clicks', value: 1, eventTime: 1000, version: 1 }])
    await sink.flush()
    await committer.drain()
    expect((await rows(log)).map((w) => w.entity).sort()).toEqual(['a', 'b'])
    await sink.close()
  })
})

describe('pipeline with checkpoints committed by the log', () => {
  it('resumes from the log alone: a restarted run reads only what follows the checkpoint', async () => {
    const store = memoryStore({ changelog: true })
    const log = memoryLog({ features: features.describe() })
    const all = events(40)
    const read: number[] = []
    const source = (upTo: number) => arraySource('e', all.slice(0, upTo), { batchSize: 5 })
    const tracking = (upTo: number) => {
      const s = source(upTo)
      return {
        name: s.name,
        async *open(from: Parameters<typeof s.open>[0], o: Parameters<typeof s.open>[1]) {
          read.push(typeof from === 'number' ? from : 0)
          yield* s.open(from, o)
        },
      }
    }
    const run = async (upTo: number) => {
      const committer = changelogCommitter({ store, log, intervalMs: 0 })
      const sink = onlineSink({ store, features: online })
      const p = createPipeline({ source: tracking(upTo), features, sink, checkpoints: committer })
      const r = await p.run()
      await sink.close()
      await committer.close()
      return r
    }
    await run(20)
    expect((await log.readMarks()).checkpoint?.sources).toEqual({ e: 20 })
    const r2 = await run(40) // the stream grew: the second run starts at 20
    expect(read).toEqual([0, 20])
    expect(r2.metrics.eventsIn).toBe(40) // counters are restored from the checkpoint
    expect(r2.metrics.checkpoints).toBeGreaterThan(0)
  })

  it('refuses sources that cannot resume, and two sources with one name', () => {
    const store = memoryStore({ changelog: true })
    const log = memoryLog({ features: features.describe() })
    const checkpoints = changelogCommitter({ store, log, intervalMs: 0 })
    const sink = onlineSink({ store, features: online })
    expect(() => createPipeline({ source: events(3), features, sink, checkpoints })).toThrow(
      /ResumableSource/,
    )
    expect(() =>
      createPipeline({ sources: [arraySource('x', events(2)), arraySource('x', events(2))], features, sink }),
    ).toThrow(/unique name/)
  })

  it('commits checkpoints every checkpointInterval while the run goes', async () => {
    const store = memoryStore({ changelog: true })
    const log = memoryLog({ features: features.describe() })
    const committer = changelogCommitter({ store, log, intervalMs: 0 })
    const sink = onlineSink({ store, features: online })
    let commits = 0
    const counting = {
      latestCheckpoint: () => committer.latestCheckpoint(),
      async commitCheckpoint(cp: Parameters<typeof committer.commitCheckpoint>[0]) {
        commits++
        await committer.commitCheckpoint(cp)
      },
    }
    const p = createPipeline({
      source: slowSource(30),
      features,
      sink,
      checkpoints: counting,
      checkpointInterval: 10,
    })
    await p.run()
    expect(commits).toBeGreaterThan(2)
    expect((await log.readMarks()).checkpoint?.sources).toEqual({ slow: 30 })
    await sink.close()
  })

  it('a periodic checkpoint that fails to commit is counted and logged, and the run goes on', async () => {
    const store = memoryStore({ changelog: true })
    const log = memoryLog({ features: features.describe() })
    const committer = changelogCommitter({ store, log, intervalMs: 0 })
    const sink = onlineSink({ store, features: online })
    let calls = 0
    const failingOnce = {
      latestCheckpoint: () => committer.latestCheckpoint(),
      async commitCheckpoint(cp: Parameters<typeof committer.commitCheckpoint>[0]) {
        if (++calls === 1) throw new Error('disk full')
        await committer.commitCheckpoint(cp)
      },
    }
    const errors: string[] = []
    const logger = {
      warn: () => undefined,
      info: () => undefined,
      error: (o: object, m?: string) => errors.push(`${m} ${JSON.stringify(o)}`),
    }
    const p = createPipeline({
      source: slowSource(20),
      features,
      sink,
      checkpoints: failingOnce,
      checkpointInterval: 5,
      logger,
    })
    const r = await p.run()
    expect(r.metrics.checkpointFailures).toBe(1)
    expect(errors.join('\n')).toMatch(/periodic checkpoint failed.*disk full/)
    expect((await log.readMarks()).checkpoint?.sources).toEqual({ slow: 20 })
    await sink.close()
  })

  it('a run whose resume read fails rejects, and the next run still resumes from the checkpoint', async () => {
    const store = memoryStore({ changelog: true })
    const log = memoryLog({ features: features.describe() })
    const sink = onlineSink({ store, features: online })
    const first = changelogCommitter({ store, log, intervalMs: 0 })
    await createPipeline({
      source: arraySource('e', events(10), { batchSize: 5 }),
      features,
      sink,
      checkpoints: first,
    }).run()
    const committer = changelogCommitter({ store, log, intervalMs: 0 })
    let fail = true
    const flaky = {
      latestCheckpoint: () =>
        fail ? Promise.reject(new Error('log unreachable')) : committer.latestCheckpoint(),
      commitCheckpoint: (cp: Parameters<typeof committer.commitCheckpoint>[0]) =>
        committer.commitCheckpoint(cp),
    }
    const read: unknown[] = []
    const src = arraySource('e', events(20), { batchSize: 5 })
    const p = createPipeline({
      source: {
        name: 'e',
        open: (from: Parameters<typeof src.open>[0], o: Parameters<typeof src.open>[1]) => {
          read.push(from)
          return src.open(from, o)
        },
      },
      features,
      sink,
      checkpoints: flaky,
    })
    await expect(p.run()).rejects.toThrow('log unreachable')
    fail = false
    const r = await p.run()
    expect(read).toEqual([10]) // resumed after the 10 events the checkpoint covers, not from 0
    expect(r.metrics.eventsIn).toBe(20)
    await sink.close()
  })
})
