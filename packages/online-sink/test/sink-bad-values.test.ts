import {
  collectingSink,
  END_STORABLE_TIME,
  type FeatureUpdate,
  type FeatureValue,
  type FeatureWrite,
  manualClock,
} from '@skewless/core'
import { describe, expect, it } from 'vitest'
import { checkValue } from '../src/adapter.js'
import {
  memoryStore,
  type OnlineDeadLetter,
  type OnlineFeatureConfig,
  onlineReader,
  onlineSink,
} from '../src/index.js'
import { FEATURES, up } from './helpers.js'

const COUNT: OnlineFeatureConfig = { name: 'n', valueType: 'int64', strategy: 'cas' }

function setup() {
  const store = memoryStore()
  const down = collectingSink<FeatureWrite>()
  const dead = collectingSink<OnlineDeadLetter>()
  const sink = onlineSink({
    store,
    features: [...FEATURES, COUNT],
    downstream: down,
    deadLetters: dead,
    lingerMs: 0,
    maxBatchSize: 1000,
  })
  return { store, down, dead, sink }
}

const circular = (): FeatureValue => {
  const o: Record<string, unknown> = {}
  o.self = o
  return o as unknown as FeatureValue
}

describe('a bad value costs its own write, not its batch', () => {
  it('a bigint and a circular value among 100 good writes: the 100 land, the two are dead-lettered', async () => {
    const { store, down, dead, sink } = setup()
    const batch: FeatureUpdate[] = []
    for (let i = 0; i < 50; i++) batch.push(up(`e${i}`, 'n', i, 1000, 1))
    batch.push(up('bad1', 'n', 5n as unknown as FeatureValue, 1000, 1))
    batch.push(up('bad2', 'score', circular(), 1000, 1))
    for (let i = 50; i < 100; i++) batch.push(up(`e${i}`, 'score', i + 0.5, 1000, 1))
    await sink.write(batch)
    await sink.flush()
    expect(down.items.filter((w) => w.outcome === 'applied')).toHaveLength(100)
    expect(dead.items.map((d) => [d.update.entity, d.code])).toEqual([
      ['bad1', 'serialization'],
      ['bad2', 'serialization'],
    ])
    expect(dead.items[0]?.message).toMatch(/'n' is int64, got bigint 5n/)
    expect(dead.items[1]?.message).toMatch(/'score' is double, got an object/)
    expect(sink.metrics()).toMatchObject({ applied: 100, deadLetters: 2 })
    const [row] = await store.read(['e7'], [COUNT])
    expect(row?.[0]).toMatchObject({ kind: 'value', stored: { value: 7 } })
    await sink.close()
  })

  it('NaN and Infinity for an int64 feature say what they are, not "null"', async () => {
    expect(checkValue(COUNT, up('a', 'n', Number.NaN, 1))).toBe(
      "feature 'n' is int64, got number NaN (needs a safe integer)",
    )
    expect(checkValue(COUNT, up('a', 'n', Number.POSITIVE_INFINITY, 1))).toMatch(/got number Infinity/)
    expect(checkValue(COUNT, up('a', 'n', 1n as unknown as FeatureValue, 1))).toMatch(/got bigint 1n/)
    expect(() =>
      checkValue(FEATURES[0] as OnlineFeatureConfig, up('a', 'score', circular(), 1)),
    ).not.toThrow()
    // The memory store calls the same check: a bigint reaching it directly costs that write only.
    const store = memoryStore()
    const res = await store.apply(
      [up('a', 'n', 1n as unknown as FeatureValue, 1, 1), up('b', 'n', 2, 1, 1)],
      new Map([[COUNT.name, COUNT]]),
    )
    expect(res.outcomes[1]).toBe('applied')
    expect(res.outcomes[0]).toMatchObject({ reason: 'serialization' })
  })

  it('times the offline log cannot store are dead-lettered before the store, with what to change', async () => {
    const { store, down, dead, sink } = setup()
    await sink.write([
      up('a', 'score', 1, 1.5, 1),
      up('b', 'score', 1, END_STORABLE_TIME, 1),
      up('c', 'score', 1, 1e300, 1),
      up('d', 'score', 1, 1000, 1.5),
      up('e', 'clicks_5m', 3, 1000, 1, 0.5),
      up('ok', 'score', 1, 1000, 1),
    ])
    await sink.flush()
    expect(dead.items.map((d) => [d.update.entity, d.code])).toEqual([
      ['a', 'rejected'],
      ['b', 'rejected'],
      ['c', 'rejected'],
      ['d', 'rejected'],
      ['e', 'rejected'],
    ])
    expect(dead.items[0]?.message).toMatch(/eventTime 1.5 is not a whole number of ms/)
    expect(dead.items[1]?.message).toMatch(/outside the UTC years 0000-9999/)
    expect(dead.items[4]?.message).toMatch(/tileStart 0.5/)
    expect(down.items.map((w) => w.entity)).toEqual(['ok'])
    const rows = await store.read(['a', 'b', 'c', 'd'], [FEATURES[0] as OnlineFeatureConfig])
    expect(rows.map((r) => r[0]?.kind)).toEqual(['missing', 'missing', 'missing', 'missing'])
    await sink.close()
  })
})

describe('reader vectors', () => {
  it('a feature whose name is an Object.prototype member is an own key of the vector', async () => {
    const names = ['__proto__', 'constructor', 'toString']
    const features: OnlineFeatureConfig[] = names.map((name) => ({
      name,
      valueType: 'double',
      strategy: 'cas',
    }))
    const store = memoryStore()
    await store.apply(
      names.map((n, i) => up('a', n, i + 1, 1000, 1)),
      new Map(features.map((f) => [f.name, f])),
    )
    const reader = onlineReader({ store, features, clock: manualClock(2000) })
    const [v] = await reader.get(['a'], names)
    const values = v?.values as Record<string, unknown>
    expect(Object.keys(values)).toEqual(names)
    for (const [i, n] of names.entries()) {
      expect(Object.getOwnPropertyDescriptor(values, n)?.value).toEqual({
        value: i + 1,
        eventTime: 1000,
        ageMs: 1000,
      })
    }
  })
})
