import {
  collectingSink,
  count,
  createPipeline,
  defineFeatures,
  type FeatureUpdate,
  hopping,
  InvalidDefinitionError,
  sum,
  tumbling,
} from '@skewless/core'
import { compareVersion } from '@skewless/core/adapter'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { backfill, memoryLog } from '../src/index.js'

interface Ev {
  user: string
  ts: number
  amount: number
}

const group = defineFeatures<Ev>({
  entity: (e) => e.user,
  eventTime: (e) => e.ts,
  features: {
    clicks: { window: tumbling('10s'), aggregate: count() },
    spend: { window: hopping('20s', '10s'), aggregate: sum(), value: (e) => e.amount },
  },
})

async function* batches(bs: Ev[][]) {
  for (const b of bs) yield b
}

const ev = (user: string, ts: number, amount = 1): Ev => ({ user, ts, amount })
const plain = (u: FeatureUpdate) => [u.entity, u.feature, u.value, u.eventTime, u.version]

describe('backfill', () => {
  it('appends every update as an applied write, available at the instant the simulated live run emitted it', async () => {
    const log = memoryLog({ features: group.describe() })
    const r = await backfill({
      source: batches([[ev('a', 1000), ev('a', 3000), ev('b', 4000)], [ev('a', 15_000)]]),
      features: group,
      watermark: { outOfOrderness: '2s' },
      log,
    })
    const rows: unknown[] = []
    for await (const b of log.scanRows({ features: ['clicks'], by: 'available' })) {
      for (const w of b) rows.push([w.entity, w.value, w.eventTime, w.availableTime, w.outcome])
    }
    expect(rows).toEqual([
      // One micro-batch per event-time instant, whatever the source's chunks: each value is
      // available when its event arrived, not at the end of the source's chunk (4000).
      ['a', 1, 1000, 1000, 'applied'],
      ['a', 2, 3000, 3000, 'applied'],
      ['b', 1, 4000, 4000, 'applied'],
      // a's new window at 15000, then b's decay at 10000, emitted once the watermark (13000)
      // passed it — available at 15000, not at 10000.
      ['a', 1, 15_000, 15_000, 'applied'],
      ['b', 0, 10_000, 15_000, 'applied'],
    ])
    expect(r.ended).toBe('completed')
    let stored = 0
    for await (const b of log.scanRows({ features: ['clicks', 'spend'] })) stored += b.length
    expect(r.records).toBe(stored)
    // drainTo defaults to 'none': a's decay at 20000 is not emitted (a live stream would not have yet).
    expect(rows.some((x) => (x as unknown[])[2] === 20_000)).toBe(false)
  })

  it('adds availabilityDelay and keeps tile starts', async () => {
    const tiles = defineFeatures<Ev>({
      entity: (e) => e.user,
      eventTime: (e) => e.ts,
      features: {
        spend: { window: hopping('20s', '10s'), aggregate: sum(), value: (e) => e.amount, emit: 'tiles' },
      },
    })
    const log = memoryLog({ features: tiles.describe() })
    await backfill({
      source: [ev('a', 1000, 5), ev('a', 12_000, 7)],
      features: tiles,
      log,
      availabilityDelay: '1.5s',
    })
    const got: unknown[] = []
    for await (const b of log.scanRows({ features: ['spend'] })) {
      for (const w of b) got.push([w.tileStart, w.value, w.eventTime, w.availableTime])
    }
    expect(got).toEqual([
      [0, 5, 1000, 2500],
      [10_000, 7, 12_000, 13_500],
    ])
  })

  it('availability never precedes the value, never passes the frontier, and grows with the record order per pair', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            u: fc.constantFrom('a', 'b', 'c'),
            step: fc.integer({ min: 0, max: 4000 }),
            back: fc.integer({ min: 0, max: 3000 }),
            cut: fc.boolean(),
          }),
          { minLength: 1, maxLength: 60 },
        ),
        async (raw) => {
          let t = 100_000
          const bs: Ev[][] = [[]]
          let maxT = Number.NEGATIVE_INFINITY
          for (const x of raw) {
            t += x.step
            const e = ev(x.u, t - x.back)
            ;(bs[bs.length - 1] as Ev[]).push(e)
            maxT = Math.max(maxT, e.ts)
            if (x.cut) bs.push([])
          }
          const log = memoryLog({ features: group.describe() })
          const r = await backfill({
            source: batches(bs),
            features: group,
            watermark: { outOfOrderness: 3000 },
            log,
          })
          const byPair = new Map<string, { eventTime: number; version: number; availableTime: number }[]>()
          let n = 0
          for await (const b of log.scanRows({ features: ['clicks', 'spend'] })) {
            for (const w of b) {
              n++
              expect(w.outcome).toBe('applied')
              expect(w.availableTime).toBeGreaterThanOrEqual(w.eventTime)
              expect(w.availableTime).toBeLessThanOrEqual(maxT)
              const k = `${w.entity}/${w.feature}`
              byPair.set(k, [...(byPair.get(k) ?? []), w])
            }
          }
          expect(n).toBe(r.records)
          for (const ws of byPair.values()) {
            // (eventTime, version) orders the writes of a pair; a version alone only within one eventTime.
            ws.sort((x, y) => compareVersion(x.eventTime, x.version, y.eventTime, y.version))
            for (let i = 1; i < ws.length; i++) {
              expect((ws[i] as { availableTime: number }).availableTime).toBeGreaterThanOrEqual(
                (ws[i - 1] as { availableTime: number }).availableTime,
              )
            }
          }
        },
      ),
      { numRuns: 100 },
    )
  })

  it("a live pipeline resumed from the result's checkpoint continues exactly as one uninterrupted run", async () => {
    const history = [
      [ev('a', 1000), ev('b', 2000, 3)],
      [ev('a', 9000, 2), ev('c', 11_000)],
      [ev('b', 24_000, 4)],
    ]
    const live = [[ev('a', 26_000), ev('c', 27_000, 5)], [ev('b', 41_000)]]
    const whole = collectingSink<FeatureUpdate>()
    await createPipeline({
      source: batches([...history, ...live]),
      features: group,
      watermark: { outOfOrderness: '2s' },
      sink: whole,
    }).run()

    const log = memoryLog({ features: group.describe() })
    const r = await backfill({
      source: batches(history),
      features: group,
      watermark: { outOfOrderness: '2s' },
      log,
    })
    const resumed = collectingSink<FeatureUpdate>()
    await createPipeline({
      source: batches(live),
      features: group,
      watermark: { outOfOrderness: '2s' },
      sink: resumed,
      checkpoint: JSON.parse(JSON.stringify(r.checkpoint)),
    }).run()

    const backfilled: FeatureUpdate[] = []
    for await (const b of log.scanRows({ features: ['clicks', 'spend'] })) backfilled.push(...b)
    const key = (x: unknown[]) => JSON.stringify(x)
    const expected = whole.items.map(plain).map(key).sort()
    const got = [...backfilled.map(plain), ...resumed.items.map(plain)].map(key).sort()
    expect(got).toEqual(expected)
  })

  it('joins a run of equal event times split across source chunks into one micro-batch', async () => {
    const log = memoryLog({ features: group.describe() })
    const r = await backfill({
      source: batches([[ev('a', 1000), ev('a', 2000)], [ev('a', 2000)], [ev('a', 2000), ev('b', 3000)]]),
      features: group,
      log,
    })
    const rows: unknown[] = []
    for await (const b of log.scanRows({ features: ['clicks'] })) {
      for (const w of b) rows.push([w.entity, w.value, w.eventTime, w.version, w.availableTime])
    }
    // One update for the three events at 2000, as a live pipeline that got them at 2000 emits; its
    // version is the number of events in the window at 2000.
    expect(rows).toEqual([
      ['a', 1, 1000, 1, 1000],
      ['a', 4, 2000, 4, 2000],
      ['b', 1, 3000, 1, 3000],
    ])
    expect(r.metrics.batches).toBe(3)
    expect(r.metrics.eventsIn).toBe(5)
  })

  it('sends late events and dead letters to their outputs, as the live pipeline does', async () => {
    const late: unknown[] = []
    const dead: unknown[] = []
    const sinkOf = (into: unknown[]) => ({
      write: (xs: readonly unknown[]) => {
        into.push(...xs)
      },
      flush: async () => undefined,
      close: async () => undefined,
    })
    const r = await backfill({
      source: [ev('a', 10_000), ev('a', 1000), { user: '', ts: 11_000, amount: 1 }],
      features: group,
      watermark: { outOfOrderness: '1s' },
      log: memoryLog({ features: group.describe() }),
      lateEvents: sinkOf(late),
      deadLetters: sinkOf(dead),
    })
    expect(late).toHaveLength(1)
    expect(dead).toHaveLength(1)
    expect(r.metrics.lateEvents).toBe(1)
    expect(r.metrics.deadLetters).toBe(1)
  })

  it('stops at a source chunk when aborted: what it covers is logged, the held-back instant is not', async () => {
    const ac = new AbortController()
    async function* src() {
      yield [ev('a', 1000), ev('a', 2000)]
      ac.abort()
      yield [ev('a', 3000)]
    }
    const log = memoryLog({ features: group.describe() })
    const r = await backfill({ source: src(), features: group, log, signal: ac.signal })
    expect(r.ended).toBe('aborted')
    const times: number[] = []
    for await (const b of log.scanRows({ features: ['clicks'] })) for (const w of b) times.push(w.eventTime)
    // The chunk read when the signal fired is processed up to its last instant (3000), which could
    // have continued in the next chunk: it is held back and not processed, as if never read.
    expect(times).toEqual([1000, 2000])
    expect(r.metrics.eventsIn).toBe(2)
  })

  it('refuses several sources and a checkpoint store, before reading anything', async () => {
    const log = memoryLog({ features: group.describe() })
    await expect(backfill({ sources: [[ev('a', 1)], [ev('b', 2)]], features: group, log })).rejects.toThrow(
      /one source.*merge the partitions by event time/,
    )
    await expect(
      backfill({
        source: [ev('a', 1)],
        features: group,
        log,
        // Not in BackfillOptions: a JavaScript caller could still pass it.
        checkpoints: { commitCheckpoint: async () => undefined, latestCheckpoint: async () => undefined },
      } as never),
    ).rejects.toThrow(/no `checkpoints`/)
  })

  it('refuses a missing log or a bad delay before reading anything', async () => {
    let read = false
    const src = {
      async *[Symbol.asyncIterator]() {
        read = true
        yield ev('a', 1)
      },
    }
    await expect(backfill({ source: src, features: group, log: undefined as never })).rejects.toThrow(
      InvalidDefinitionError,
    )
    await expect(
      backfill({
        source: src,
        features: group,
        log: memoryLog({ features: group.describe() }),
        availabilityDelay: -1,
      }),
    ).rejects.toThrow(/availabilityDelay/)
    expect(read).toBe(false)
  })
})
