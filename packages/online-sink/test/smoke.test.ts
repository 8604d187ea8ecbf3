import { collectingSink, type FeatureWrite, manualClock } from '@skewless/core'
import { expect, it } from 'vitest'
import { memoryStore, onlineReader, onlineSink } from '../src/index.js'
import { FEATURES, up } from './helpers.js'

it('writes through the memory store and reads back', async () => {
  const store = memoryStore()
  const clock = manualClock(10_000)
  const down = collectingSink<FeatureWrite>()
  const sink = onlineSink({ store, features: FEATURES, downstream: down, clock })
  sink.write([up('u1', 'score', 1.5, 1000, 1), up('u2', 'score', 2, 1000, 1), up('u1', 'label', 'a', 900)])
  sink.write([up('u1', 'score', 0.5, 500, 1)])
  await sink.flush()
  const reader = onlineReader({ store, features: FEATURES, clock })
  const [v1, v2] = await reader.get(['u1', 'u2'], ['score', 'label'])
  expect(v1?.values.score).toEqual({ value: 1.5, eventTime: 1000, ageMs: 9000 })
  expect(v1?.values.label?.value).toBe('a')
  expect(v2?.values.label).toBeNull()
  expect(down.items.map((w) => [w.entity, w.feature, w.outcome])).toEqual([
    ['u1', 'score', 'applied'],
    ['u2', 'score', 'applied'],
    ['u1', 'label', 'applied'],
  ])
  expect(sink.metrics().coalesced).toBe(1)
  await sink.close()
})
