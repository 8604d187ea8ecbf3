import { collectingSink, END_STORABLE_TIME, type FeatureWrite, MIN_STORABLE_TIME } from '@skewless/core'
import { describe, expect, it } from 'vitest'
import { memoryLog, type RejectedWrite } from '../src/index.js'

const write = (eventTime: number, extra: Partial<FeatureWrite> = {}): FeatureWrite => ({
  entity: 'a',
  feature: 'x',
  value: 1,
  eventTime,
  version: 0,
  availableTime: 1_000,
  outcome: 'applied',
  ...extra,
})

describe("the log's time rule is core's isStorableTime", () => {
  it('refuses exactly the times the pipeline dead-letters, and keeps the rest of the batch', async () => {
    const dead = collectingSink<RejectedWrite>()
    const log = memoryLog({ features: { x: 'int64' }, deadLetters: dead })
    await log.append([
      write(MIN_STORABLE_TIME),
      write(END_STORABLE_TIME - 1),
      write(END_STORABLE_TIME),
      write(MIN_STORABLE_TIME - 1),
      write(1e300),
      write(1.5),
      write(5, { availableTime: 2.5 }),
      write(5, { tileStart: END_STORABLE_TIME }),
    ])
    expect(dead.items.map((d) => [d.code, d.record.eventTime])).toEqual([
      ['invalid-time', END_STORABLE_TIME],
      ['invalid-time', MIN_STORABLE_TIME - 1],
      ['invalid-time', 1e300],
      ['invalid-time', 1.5],
      ['invalid-time', 5],
      ['invalid-time', 5],
    ])
    expect(dead.items[0]?.message).toMatch(/eventTime .* outside the UTC years 0000-9999/)
    expect(dead.items[4]?.message).toMatch(/availableTime 2.5 is not a whole number of ms/)
    expect(dead.items[5]?.message).toMatch(/tileStart/)
    const kept = await log.stateAt(END_STORABLE_TIME, { features: ['x'], by: 'event' })
    expect(kept.map((s) => s.eventTime)).toEqual([END_STORABLE_TIME - 1])
  })
})
