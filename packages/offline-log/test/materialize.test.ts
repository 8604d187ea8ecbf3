import {
  collectingSink,
  count,
  defineFeatures,
  type FeatureUpdate,
  hopping,
  InvalidArgumentError,
  InvalidDefinitionError,
  last,
  manualClock,
  sum,
} from '@skewless/core'
import { memoryStore, onlineFeatures, onlineReader, onlineSink } from '@skewless/online-sink'
import { describe, expect, it } from 'vitest'
import { backfill, materialize, memoryLog } from '../src/index.js'

interface Ev {
  user: string
  ts: number
  amount: number
  page: string
}

const group = defineFeatures<Ev>({
  entity: (e) => e.user,
  eventTime: (e) => e.ts,
  features: {
    clicks: { window: hopping('10s', '5s'), aggregate: count() },
    page: { window: hopping('1m', '10s'), aggregate: last('string'), value: (e) => e.page },
    spend: { window: hopping('20s', '10s'), aggregate: sum(), value: (e) => e.amount, emit: 'tiles' },
  },
})
const names = group.describe().map((f) => f.name)

/** A few minutes of history over 5 users, in batches of 7 events. */
function history(): Ev[][] {
  const out: Ev[][] = []
  let b: Ev[] = []
  for (let i = 0; i < 140; i++) {
    b.push({
      user: `u${(i * 3) % 5}`,
      ts: 60_000 + i * 1300 - (i % 4) * 900,
      amount: i % 7,
      page: `p${i % 3}`,
    })
    if (b.length === 7) {
      out.push(b)
      b = []
    }
  }
  return out
}

async function backfilled() {
  const log = memoryLog({ features: group.describe() })
  async function* src() {
    for (const b of history()) yield b
  }
  const r = await backfill({ source: src(), features: group, watermark: { outOfOrderness: '3s' }, log })
  return { log, r, end: 60_000 + 140 * 1300 }
}

describe('materialize', () => {
  it('writes the state at `at` (one update per pair, one per tile) in batches, then flushes', async () => {
    const { log, end } = await backfilled()
    const sink = collectingSink<FeatureUpdate>()
    const writes: number[] = []
    const counting = {
      ...sink,
      write: (b: readonly FeatureUpdate[]) => {
        writes.push(b.length)
        return sink.write(b)
      },
    }
    const r = await materialize({ log, sink: counting, at: end, features: names, batchSize: 4 })
    const state = await log.stateAt(end, { features: names })
    expect(r.records).toBe(state.length)
    expect(sink.items).toEqual(
      state.map((w) => ({
        entity: w.entity,
        feature: w.feature,
        value: w.value,
        eventTime: w.eventTime,
        version: w.version,
        ...(w.tileStart === undefined ? {} : { tileStart: w.tileStart }),
      })),
    )
    expect(writes.every((n) => n <= 4)).toBe(true)
    expect(writes.reduce((a, n) => a + n, 0)).toBe(state.length)
    // Tiles are loaded one by one: the additive feature has several per entity.
    expect(sink.items.filter((u) => u.feature === 'spend' && u.entity === 'u0').length).toBeGreaterThan(1)
  })

  it('after backfill + materialize, the online reader serves what the log says was available', async () => {
    const { log, end } = await backfilled()
    const clock = manualClock(end + 1000)
    const store = memoryStore({ clock })
    const online = onlineFeatures(group.describe())
    const sink = onlineSink({ store, features: online, clock })
    await materialize({ log, sink, at: end, features: names })
    const reader = onlineReader({ store, features: online, clock })
    const users = ['u0', 'u1', 'u2', 'u3', 'u4']
    const got = await reader.get(users, names)
    const state = await log.stateAt(clock.now(), { features: names })
    for (const [i, user] of users.entries()) {
      for (const f of ['clicks', 'page']) {
        const w = state.find((x) => x.entity === user && x.feature === f)
        expect(got[i]?.values[f]?.value, `${user}/${f}`).toEqual(w?.value)
        expect(got[i]?.values[f]?.eventTime).toEqual(w?.eventTime)
      }
      // spend: the reader sums the tiles of the window at the read time.
      const tiles = state.filter((x) => x.entity === user && x.feature === 'spend')
      const now = clock.now()
      const winStart = Math.floor(now / 10_000) * 10_000 + 10_000 - 20_000
      const inWin = tiles.filter((x) => (x.tileStart as number) >= winStart && (x.tileStart as number) <= now)
      expect(got[i]?.values.spend?.value).toBe(inWin.reduce((a, x) => a + (x.value as number), 0))
    }
    await sink.close()
  })

  it('a value the live pipeline already wrote is newer and wins (compare-and-set)', async () => {
    const { log, end } = await backfilled()
    const clock = manualClock(end + 1000)
    const store = memoryStore({ clock })
    const online = onlineFeatures(group.describe())
    const sink = onlineSink({ store, features: online, clock })
    const state = await log.stateAt(end, { features: ['clicks'], entities: ['u1'] })
    const old = state[0] as FeatureUpdate
    sink.write([{ ...old, value: 99, eventTime: old.eventTime + 1 }])
    await sink.flush()
    await materialize({ log, sink, at: end, features: ['clicks'] })
    const row = await onlineReader({ store, features: online, clock }).get(['u1'], ['clicks'])
    expect(row[0]?.values.clicks?.value).toBe(99)
    expect(sink.metrics().stale).toBe(1)
    await sink.close()
  })

  it('refuses a missing log or sink, a bad instant and a bad batch size', async () => {
    const log = memoryLog({ features: group.describe() })
    const sink = collectingSink<FeatureUpdate>()
    await expect(materialize({ log: undefined as never, sink, at: 0, features: names })).rejects.toThrow(
      InvalidDefinitionError,
    )
    await expect(materialize({ log, sink: undefined as never, at: 0, features: names })).rejects.toThrow(
      InvalidDefinitionError,
    )
    await expect(materialize({ log, sink, at: Number.NaN, features: names })).rejects.toThrow(
      InvalidArgumentError,
    )
    await expect(materialize({ log, sink, at: 0, features: names, batchSize: 0 })).rejects.toThrow(
      /batchSize/,
    )
  })
})
