import { describe, expect, it } from 'vitest'
import { looksLikeSeconds, SECONDS_LIKE_END, SECONDS_LIKE_FROM } from '../src/adapter.js'
import {
  collectingSink,
  count,
  createPipeline,
  type DeadLetter,
  defineFeatures,
  type FeatureUpdate,
  manualClock,
  parseTime,
  unbounded,
} from '../src/index.js'

describe('parseTime: the one parser of user-given times', () => {
  it('reads ms numbers, bigints, Dates, decimal strings and ISO-8601 with an offset', () => {
    const t = Date.UTC(2026, 11, 7, 10, 0, 0)
    expect(parseTime(t)).toBe(t)
    expect(parseTime(BigInt(t))).toBe(t)
    expect(parseTime(new Date(t))).toBe(t)
    expect(parseTime(String(t))).toBe(t)
    expect(parseTime('2026-12-07T10:00:00Z')).toBe(t)
    expect(parseTime('2026-12-07T10:00:00.000Z')).toBe(t)
    expect(parseTime('2026-12-07T11:00:00+01:00')).toBe(t)
    expect(parseTime('2026-12-07T05:30:00-0430')).toBe(t)
    expect(parseTime('2026-12-07T10:00Z')).toBe(t)
    expect(parseTime('2026-12-07')).toBe(Date.UTC(2026, 11, 7))
    expect(parseTime('0001-01-01')).toBe(new Date('0001-01-01T00:00:00Z').getTime())
  })

  it('keeps a sub-ms part as floor(ms) + 0.5, like a µs Arrow label time', () => {
    const t = Date.UTC(2026, 11, 7, 10, 0, 0, 123)
    expect(parseTime('2026-12-07T10:00:00.123Z')).toBe(t)
    expect(parseTime('2026-12-07T10:00:00.123000Z')).toBe(t)
    expect(parseTime('2026-12-07T10:00:00.123456Z')).toBe(t + 0.5)
    expect(parseTime('2026-12-07T10:00:00.1Z')).toBe(t - 23)
  })

  it('refuses what depends on the engine or the machine: other formats, date-times without an offset, impossible dates', () => {
    // Before: Date.parse accepted all of these (the offset-less one in the machine's time zone).
    for (const s of [
      'Dec 7, 2026',
      '12/07/2026',
      '2026-12-07T10:00:00',
      '2026-12-07 10:00',
      '2026-02-30',
      '2026-13-01',
      '2026-12-07T24:00:00Z',
      '2026-12-07T10:00:00+25:00',
      '',
      ' 12',
      '0x10',
    ]) {
      expect(parseTime(s), s).toBeNaN()
    }
    expect(parseTime(null)).toBeNaN()
    expect(parseTime({})).toBeNaN()
  })
})

describe('times that look like seconds', () => {
  const NOW = Date.UTC(2026, 11, 7)
  const group = () =>
    defineFeatures<{ u: string; t: unknown }>({
      entity: (e) => e.u,
      eventTime: (e) => e.t,
      features: { n: { window: unbounded(), aggregate: count() } },
    })
  async function run(times: unknown[], allowEarlyTimes?: boolean) {
    const sink = collectingSink<FeatureUpdate>()
    const dead = collectingSink<DeadLetter>()
    const p = createPipeline({
      source: times.map((t) => ({ u: 'a', t })),
      features: group(),
      clock: manualClock(NOW),
      logger: false,
      batchSize: 1,
      sink,
      deadLetters: dead,
      ...(allowEarlyTimes === undefined ? {} : { allowEarlyTimes }),
    })
    await p.run()
    return { updates: sink.items, dead: dead.items }
  }

  it('the range is [1e9, 1e11): 2001 to 5138 as seconds, 1970-01-12 to 1973-03-03 as ms', () => {
    expect(SECONDS_LIKE_FROM).toBe(1e9)
    expect(SECONDS_LIKE_END).toBe(1e11)
    expect(new Date(SECONDS_LIKE_FROM * 1000).toISOString()).toBe('2001-09-09T01:46:40.000Z')
    expect(new Date(SECONDS_LIKE_END).toISOString()).toBe('1973-03-03T09:46:40.000Z')
    expect(looksLikeSeconds(Math.floor(NOW / 1000))).toBe(true)
    expect(looksLikeSeconds(NOW)).toBe(false)
    expect(looksLikeSeconds(60_000)).toBe(false)
  })

  it('an event time in seconds is dead-lettered at the door with what to do (before: accepted as January 1970)', async () => {
    const secs = Math.floor(NOW / 1000)
    const { updates, dead } = await run([secs, String(secs), BigInt(secs)])
    expect(updates).toEqual([])
    expect(dead.map((d) => d.code)).toEqual(['invalid-time', 'invalid-time', 'invalid-time'])
    expect(dead[0]?.message).toMatch(/looks like seconds.*multiply by 1000.*allowEarlyTimes: true/)
  })

  it('small test times, ms times after 1973, Dates and ISO strings of 1970-1973 pass; allowEarlyTimes lets bare numbers through', async () => {
    const early = Date.UTC(1971, 5, 1)
    const ok = await run([0, 1_000, 60_000, new Date(early), new Date(early).toISOString(), NOW - 1])
    expect(ok.dead).toEqual([])
    expect(ok.updates.map((u) => u.eventTime)).toEqual([0, 1_000, 60_000, early, early, NOW - 1])
    const optedOut = await run([early], true)
    expect(optedOut.dead).toEqual([])
    expect(optedOut.updates.map((u) => u.eventTime)).toEqual([early])
  })
})
