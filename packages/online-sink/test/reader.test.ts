import {
  collectingSink,
  hopping,
  InvalidArgumentError,
  InvalidDefinitionError,
  manualClock,
} from '@skewless/core'
import { describe, expect, it } from 'vitest'
import { memoryStore, onlineReader, type ServedRecord } from '../src/index.js'
import { FEATURES, up } from './helpers.js'

const FM = new Map(FEATURES.map((f) => [f.name, f]))

describe('onlineReader', () => {
  it('serves many entities in one store round trip and logs every served value', async () => {
    const store = memoryStore()
    await store.apply([up('a', 'score', 1.5, 1000, 1), up('b', 'label', 'x', 2000, 1)], FM)
    const served = collectingSink<ServedRecord>()
    const clock = manualClock(5000)
    const reader = onlineReader({ store, features: FEATURES, clock, servedLog: served })
    const before = store.readCalls
    const v = await reader.get(['a', 'b', 'c'], ['score', 'label'])
    expect(store.readCalls - before).toBe(1)
    expect(v).toEqual([
      { entity: 'a', values: { score: { value: 1.5, eventTime: 1000, ageMs: 4000 }, label: null } },
      { entity: 'b', values: { score: null, label: { value: 'x', eventTime: 2000, ageMs: 3000 } } },
      { entity: 'c', values: { score: null, label: null } },
    ])
    expect(served.items).toHaveLength(6)
    expect(served.items[0]).toEqual({
      entity: 'a',
      feature: 'score',
      value: 1.5,
      eventTime: 1000,
      readTime: 5000,
      answeredTime: 5000,
    })
    expect(served.items[1]).toEqual({
      entity: 'a',
      feature: 'label',
      value: null,
      eventTime: null,
      readTime: 5000,
      answeredTime: 5000,
    })
  })

  it('filters by TTL on the read time: exactly ttlMs old is served, older is null', async () => {
    const store = memoryStore()
    const f = { name: 'fresh', valueType: 'double' as const, ttlMs: 100 }
    await store.apply([up('a', 'fresh', 1, 1000, 1)], new Map([[f.name, f]]))
    const clock = manualClock(1100)
    const reader = onlineReader({ store, features: [f], clock })
    expect((await reader.get(['a'], ['fresh']))[0]?.values.fresh?.value).toBe(1)
    clock.advance(1)
    expect((await reader.get(['a'], ['fresh']))[0]?.values.fresh).toBeNull()
  })

  it('sums additive tiles of the window at the read time; 0 once decayed, null with no tile', async () => {
    const f = {
      name: 'c',
      valueType: 'int64' as const,
      strategy: 'additive' as const,
      window: hopping(300, 100),
    }
    const store = memoryStore()
    await store.apply(
      [
        up('a', 'c', 1, 50, 1, 0),
        up('a', 'c', 2, 150, 2, 100),
        up('a', 'c', 4, 250, 3, 200),
        up('a', 'c', 8, 350, 4, 300),
      ],
      new Map([[f.name, f]]),
    )
    const clock = manualClock(299)
    const reader = onlineReader({ store, features: [f], clock })
    const at = async (t: number) => {
      clock.set(t)
      return (await reader.get(['a', 'none'], ['c'])).map((v) => v.values.c)
    }
    expect(await at(299)).toEqual([{ value: 7, eventTime: 250, ageMs: 49 }, null])
    expect((await at(300))[0]?.value).toBe(14) // tile 0 left the window at 300, tile 300 entered
    expect((await at(599))[0]).toEqual({ value: 8, eventTime: 350, ageMs: 249 })
    expect((await at(600))[0]).toEqual({ value: 0, eventTime: 600, ageMs: 0 })
    expect((await at(10_000))[0]).toEqual({ value: 0, eventTime: 600, ageMs: 9400 })
    expect((await at(-50))[0]).toEqual({ value: 0, eventTime: -50, ageMs: 0 }) // only future tiles
  })

  it('refuses a missing store with InvalidDefinitionError, as onlineSink does', () => {
    for (const options of [undefined, {}, { store: {} }]) {
      expect(() => onlineReader(options as never)).toThrow(InvalidDefinitionError)
    }
  })

  it('rejects unknown features with InvalidArgumentError and answers empty inputs without a round trip', async () => {
    const store = memoryStore()
    const reader = onlineReader({ store, features: FEATURES })
    await expect(reader.get(['a'], ['nope'])).rejects.toBeInstanceOf(InvalidArgumentError)
    expect(await reader.get([], ['score'])).toEqual([])
    expect(await reader.get(['a'], [])).toEqual([{ entity: 'a', values: {} }])
    expect(store.readCalls).toBe(0)
  })
})
