import { hopping, InvalidArgumentError, InvalidDefinitionError, manualClock } from '@skewless/core'
import { describe, expect, it } from 'vitest'
import { memoryStore, type OnlineFeatureConfig, onlineSink } from '../src/index.js'
import { corruptKey, repairKey } from '../src/testing.js'
import { faultyStore } from './faulty-store.js'
import { up } from './helpers.js'

const clicks: OnlineFeatureConfig = {
  name: 'c',
  valueType: 'int64',
  strategy: 'additive',
  window: hopping(300, 100),
}
const score: OnlineFeatureConfig = { name: 's', valueType: 'double', strategy: 'cas', ttlMs: 1000 }
const fm = new Map([
  [clicks.name, clicks],
  [score.name, score],
])

describe('memoryStore', () => {
  it('prunes tiles two windows behind the newest and reports replays of pruned tiles stale', async () => {
    const store = memoryStore()
    const writes = Array.from({ length: 20 }, (_, k) => up('a', 'c', 1, k * 100, k, k * 100))
    expect((await store.apply(writes, fm)).outcomes.every((o) => o === 'applied')).toBe(true)
    const raw = await store.read(['a'], [clicks])
    const tiles = raw[0]?.[0]?.kind === 'tiles' ? raw[0][0].tiles.map((t) => t.tileStart) : []
    expect(tiles.length).toBeLessThan(20)
    expect(Math.min(...tiles)).toBeGreaterThanOrEqual(1900 - 600)
    expect((await store.apply([up('a', 'c', 1, 0, 0, 0)], fm)).outcomes).toEqual(['stale'])
  })

  it('expires values physically ttlMs after the write, on its own clock', async () => {
    const clock = manualClock(5000)
    const store = memoryStore({ clock })
    await store.apply([up('a', 's', 1, 4000, 1)], fm)
    clock.advance(999)
    expect((await store.read(['a'], [score]))[0]?.[0]?.kind).toBe('value')
    clock.advance(1)
    expect((await store.read(['a'], [score]))[0]?.[0]?.kind).toBe('missing')
    expect(store.size).toBe(0)
    // a rewrite after expiry is applied even when older: the key is gone
    expect((await store.apply([up('a', 's', 2, 3000, 0)], fm)).outcomes).toEqual(['applied'])
  })

  it('reports unknown features, wrong value types and corrupted keys per write', async () => {
    const store = memoryStore()
    corruptKey(store, 'x', 's')
    const r = await store.apply(
      [up('a', 'zz', 1, 1), up('a', 's', 'str' as never, 1), up('x', 's', 1, 1), up('b', 's', 1, 1)],
      fm,
    )
    expect(r.outcomes.map((o) => (typeof o === 'string' ? o : o.reason))).toEqual([
      'unknown-feature',
      'serialization',
      'wrong-type',
      'applied',
    ])
    repairKey(store, 'x', 's')
    expect((await store.apply([up('x', 's', 1, 1)], fm)).outcomes).toEqual(['applied'])
    expect(store.applyCalls).toBe(2)
  })

  it('latencyMs makes a slow store: the sink keeps writing through it', async () => {
    const store = faultyStore(memoryStore({ latencyMs: 5 }))
    const sink = onlineSink({
      store,
      features: [score],
      maxBatchSize: 10,
      maxBufferedUpdates: 20,
      lingerMs: 0,
    })
    const t0 = Date.now()
    for (let i = 0; i < 10; i++) {
      const r = sink.write(Array.from({ length: 10 }, (_, j) => up(`e${i * 10 + j}`, 's', 1, 1, 1)))
      if (r) await r
    }
    await sink.close()
    expect(Date.now() - t0).toBeGreaterThanOrEqual(5)
    expect(sink.metrics().applied).toBe(100)
    expect(sink.metrics().writeLatencyMs.min).toBeGreaterThanOrEqual(4)
  })
  it('keeps no changelog by default; with changelog: true it logs applied writes at the clock, in integer positions', async () => {
    const plain = memoryStore()
    expect(plain.capabilities.changelog).toBe(false)
    expect(plain.readChangelog).toBeUndefined()
    expect(plain.trimChangelog).toBeUndefined()
    expect(() => memoryStore({ changelog: 'yes' as unknown as boolean })).toThrow(InvalidDefinitionError)

    const clock = manualClock(7000)
    const store = memoryStore({ clock, changelog: true })
    expect(store.capabilities.changelog).toBe(true)
    await store.apply([up('a', 's', 1, 4000, 1), up('b', 's', 2, 4000, 1)], fm)
    clock.advance(5)
    await store.apply([up('a', 's', 0, 3000, 1), up('a', 'c', 3, 50, 0, 0)], fm) // the first is stale
    expect(store.changelogLength()).toBe(3)
    const page = await store.readChangelog?.(undefined, { limit: 2 })
    expect(page?.position).toBe(2)
    expect(page?.end).toBe(false)
    expect(page?.writes.map((w) => [w.entity, w.feature, w.availableTime, w.outcome])).toEqual([
      ['a', 's', 7001, 'applied'],
      ['b', 's', 7001, 'applied'],
    ])
    const rest = await store.readChangelog?.(2, { limit: 2 })
    expect(rest).toEqual({
      writes: [
        {
          entity: 'a',
          feature: 'c',
          value: 3,
          eventTime: 50,
          version: 0,
          tileStart: 0,
          availableTime: 7006,
          outcome: 'applied',
        },
      ],
      position: 3,
      end: true,
    })
    await store.trimChangelog?.(2)
    expect(store.changelogLength()).toBe(1)
    expect((await store.readChangelog?.(0, { limit: 9 }))?.writes.map((w) => w.feature)).toEqual(['c'])
    await expect(store.readChangelog?.('2', { limit: 1 })).rejects.toThrow(InvalidArgumentError)
    await expect(store.readChangelog?.(2, { limit: 0 })).rejects.toThrow(InvalidArgumentError)
  })
})
