import {
  collectingSink,
  count,
  defineFeatures,
  type FeatureUpdate,
  type Progress,
  tumbling,
} from '@skewless/core'
import { describe, expect, it } from 'vitest'
import { backfill, materialize, memoryLog } from '../src/index.js'

interface Ev {
  user: string
  ts: number
}
const group = defineFeatures<Ev>({
  entity: (e) => e.user,
  eventTime: (e) => e.ts,
  features: { clicks: { window: tumbling('10s'), aggregate: count() } },
})

/** `done` never decreases, every report has the phase's unit, and the last one is complete. */
function expectProgress(seen: Progress[], phase: string, unit: string, total: number) {
  expect(seen.length).toBeGreaterThanOrEqual(2)
  for (let i = 1; i < seen.length; i++) {
    expect(seen[i]?.done).toBeGreaterThanOrEqual(seen[i - 1]?.done as number)
  }
  expect(seen.every((p) => p.phase === phase && p.unit === unit)).toBe(true)
  expect(seen.at(-1)).toEqual({ done: total, total, unit, phase })
}

describe('progress of backfill and materialize', () => {
  it('backfill reports the events it replayed; materialize the records it wrote, against a known total', async () => {
    const events: Ev[] = []
    for (let i = 0; i < 5000; i++) events.push({ user: `u${i % 40}`, ts: 60_000 + i * 50 })
    const log = memoryLog({ features: group.describe() })
    const replay: Progress[] = []
    async function* src() {
      for (let i = 0; i < events.length; i += 250) yield events.slice(i, i + 250)
    }
    const r = await backfill({ source: src(), features: group, log, onProgress: (p) => replay.push(p) })
    expect(r.metrics.eventsIn).toBe(5000)
    expectProgress(replay, 'replay', 'event', 5000)

    const written: Progress[] = []
    const sink = collectingSink<FeatureUpdate>()
    const m = await materialize({
      log,
      sink,
      at: 60_000 + 5000 * 50,
      features: ['clicks'],
      batchSize: 7,
      onProgress: (p) => written.push(p),
    })
    expect(m.records).toBe(40)
    // The total is known from the start.
    expect(written[0]).toEqual({ done: 0, total: 40, unit: 'record', phase: 'write' })
    expectProgress(written, 'write', 'record', 40)
    expect(sink.items.length).toBe(40)
  })
})
