import { collectingSink, type FeatureWrite, tumbling } from '@skewless/core'
import { expect, it } from 'vitest'
import { memoryStore, onlineSink } from '../src/index.js'
import { FeatureLane, KeyStatePool } from '../src/key-state.js'
import { up } from './helpers.js'

it('idle key states stay in their table until a sweep evicts the ones still idle; objects are reused', () => {
  const lane = new FeatureLane({
    name: 'c',
    valueType: 'int64',
    strategy: 'additive',
    window: tumbling(10),
    index: 0,
  })
  const pool = new KeyStatePool(2)
  const t0 = lane.tileTable(0)
  const a = pool.take(lane, t0, 'a', 0, up('a', 'c', 1, 1, 1, 0), 0)
  const b = pool.take(lane, t0, 'b', 0, up('b', 'c', 1, 1, 1, 0), 0)
  const c = pool.take(lane, lane.tileTable(10), 'c', 10, up('c', 'c', 1, 1, 1, 10), 0)
  for (const s of [a, b, c]) s.pending = undefined
  pool.park(a)
  pool.park(b)
  expect(t0.size).toBe(2) // parked, not evicted
  b.pending = up('b', 'c', 2, 2, 2, 0) // reused before the sweep
  pool.park(c) // third idle keyState: sweep
  expect([...t0.keys()]).toEqual(['b'])
  expect(lane.byTile.has(10)).toBe(false) // empty tile table dropped
  const d = pool.take(lane, t0, 'd', 0, up('d', 'c', 1, 1, 1, 0), 0)
  expect([a, c]).toContain(d) // a freed object came back
  expect(d.listed).toBe(false)
})

it('many distinct keys through a small idle cap: sweeps never lose or reorder updates', async () => {
  const store = memoryStore()
  const down = collectingSink<FeatureWrite>()
  const f = { name: 'v', valueType: 'double' as const, strategy: 'cas' as const }
  const sink = onlineSink({
    store,
    features: [f],
    downstream: down,
    maxBufferedUpdates: 1,
    maxBatchSize: 7,
    lingerMs: 0,
  })
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 3000; i += 50) {
      const batch = Array.from({ length: 50 }, (_, j) =>
        up(`k${(i + j) % 2500}`, 'v', round * 10_000 + i + j, round * 10_000 + i + j, round),
      )
      const r = sink.write(batch)
      if (r) await r
    }
  }
  await sink.close()
  const keys = Array.from({ length: 2500 }, (_, i) => `k${i}`)
  const rows = await store.read(keys, [f])
  for (let i = 0; i < keys.length; i++) {
    const e = rows[i]?.[0]
    // the last round wrote key k_i at i (and at 2500 + i for i < 500): the greatest event time wins
    const expected = 30_000 + (i < 500 ? 2500 + i : i)
    expect(e?.kind === 'value' && e.stored.eventTime).toBe(expected)
  }
  expect(sink.metrics().writes + sink.metrics().coalesced).toBe(12_000)
})
