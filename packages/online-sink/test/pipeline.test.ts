import {
  collectingSink,
  count,
  createPipeline,
  defineFeatures,
  type FeatureWrite,
  hopping,
  last,
  manualClock,
} from '@skewless/core'
import { expect, it } from 'vitest'
import { memoryStore, onlineFeatures, onlineReader, onlineSink } from '../src/index.js'

type Click = { user: string; ts: number; page: string }

it('pipeline → onlineSink(memoryStore) → downstream: the log holds exactly what the store served', async () => {
  const group = defineFeatures<Click>({
    entity: (e) => e.user,
    eventTime: (e) => e.ts,
    features: {
      clicks_5m: { window: hopping('5m', '1m'), aggregate: count(), emit: 'tiles' },
      last_page: { window: { kind: 'unbounded' }, aggregate: last('string'), value: (e) => e.page },
    },
  })
  const features = onlineFeatures(group.describe(), { last_page: { ttlMs: 3_600_000 } })
  expect(features.map((f) => [f.name, f.strategy])).toEqual([
    ['clicks_5m', 'additive'],
    ['last_page', 'cas'],
  ])
  const store = memoryStore()
  const clock = manualClock(10 * 60_000)
  const log = collectingSink<FeatureWrite>()
  const sink = onlineSink({ store, features, downstream: log, clock })
  const events: Click[] = []
  for (let i = 0; i < 200; i++) events.push({ user: `u${i % 7}`, ts: i * 1500, page: `p${i}` })
  await createPipeline({ source: events, features: group, sink }).run()
  await sink.close()
  expect(log.closed).toBe(true)
  expect(sink.metrics().deadLetters).toBe(0)

  const reader = onlineReader({ store, features, clock })
  const users = Array.from({ length: 7 }, (_, i) => `u${i}`)
  const vectors = await reader.get(users, ['clicks_5m', 'last_page'])
  for (const v of vectors) {
    // last_page: the greatest (eventTime, version) applied write in the log is what is served.
    const applied = log.items.filter(
      (w) => w.entity === v.entity && w.feature === 'last_page' && w.outcome === 'applied',
    )
    const newest = applied.reduce((a, b) =>
      b.eventTime > a.eventTime || (b.eventTime === a.eventTime && b.version > a.version) ? b : a,
    )
    expect(v.values.last_page?.value).toBe(newest.value)
    // clicks_5m: the sum over the log's newest tile partials in the window at the read time.
    const tiles = new Map<number, FeatureWrite>()
    for (const w of log.items) {
      if (w.entity !== v.entity || w.feature !== 'clicks_5m' || w.outcome !== 'applied') continue
      const t = tiles.get(w.tileStart as number)
      if (!t || w.version > t.version) tiles.set(w.tileStart as number, w)
    }
    const now = clock.now()
    const end = Math.floor(now / 60_000) * 60_000 + 60_000
    let sum = 0
    for (const [ts, w] of tiles) if (ts >= end - 300_000 && ts < end) sum += w.value as number
    expect(v.values.clicks_5m?.value).toBe(sum)
  }
  const expected = events.filter((e) => e.ts >= 6 * 60_000 && e.ts < 11 * 60_000).length
  const total = vectors.reduce((a, v) => a + ((v.values.clicks_5m?.value as number) ?? 0), 0)
  expect(total).toBe(expected)
})
