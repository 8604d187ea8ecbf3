import {
  collectingSink,
  count,
  createPipeline,
  type DeadLetter,
  defineFeatures,
  type FeatureWrite,
  manualClock,
  unbounded,
} from '@skewless/core'
import { isStorableTime } from '@skewless/core/adapter'
import { expect, it } from 'vitest'
import { memoryStore, type OnlineDeadLetter, onlineFeatures, onlineReader, onlineSink } from '../src/index.js'

type Click = { user: string; ts: number }

it('bad events stop at the pipeline: nothing unstorable reaches the store or the log, good vectors stay right', async () => {
  const NOW = Date.UTC(2026, 11, 7)
  const group = defineFeatures<Click>({
    entity: (e) => e.user,
    eventTime: (e) => e.ts,
    features: { clicks: { window: unbounded(), aggregate: count() } },
  })
  const features = onlineFeatures(group.describe())
  const store = memoryStore()
  const clock = manualClock(NOW)
  const log = collectingSink<FeatureWrite>()
  const sinkDead = collectingSink<OnlineDeadLetter>()
  const sink = onlineSink({ store, features, downstream: log, deadLetters: sinkDead, clock })
  const dead = collectingSink<DeadLetter<unknown>>()
  const late = collectingSink<unknown>()
  const events: unknown[] = []
  const expected = new Map<string, number>()
  for (let i = 0; i < 2000; i++) {
    const user = `u${i % 200}`
    events.push({ user, ts: NOW - 3_600_000 + i * 1000 })
    expected.set(user, (expected.get(user) ?? 0) + 1)
    if (i === 100) events.push({ user: 'u1', ts: Date.UTC(2100, 0, 1) }, null)
    if (i === 200) events.push({ user: 'u2', ts: NOW - 1000.5 }, { user: 'u3', ts: 1e300 })
  }
  const r = await createPipeline({
    source: events as Click[],
    batchSize: 64,
    features: group,
    sink,
    deadLetters: dead,
    lateEvents: late as never,
    clock,
  }).run()
  await sink.close()
  expect(r.ended).toBe('completed')
  expect(dead.items.map((d) => d.code).sort()).toEqual([
    'future-time',
    'invalid-event',
    'invalid-time',
    'invalid-time',
  ])
  expect(r.metrics.lateEvents).toBe(0)
  expect(sinkDead.items).toEqual([])
  for (const w of log.items) expect(isStorableTime(w.eventTime)).toBe(true)
  const users = [...expected.keys()]
  const vectors = await onlineReader({ store, features, clock }).get(users, ['clicks'])
  expect(vectors.map((v) => v.values.clicks?.value)).toEqual(users.map((u) => expected.get(u)))
})
