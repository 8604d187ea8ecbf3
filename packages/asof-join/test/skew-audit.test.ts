import { memoryLog } from '@skewless/offline-log'
import { describe, expect, it } from 'vitest'
import { type ServedValueRecord, skewAudit } from '../src/index.js'

describe('skewAudit', () => {
  it('accepts what the store served, reports skew, applies the TTL as maxAge', async () => {
    const log = memoryLog({ features: { f: 'double', n: 'int64' } })
    const w = { feature: 'f', version: 0, outcome: 'applied' as const }
    await log.append([
      { ...w, entity: 'a', value: 1, eventTime: 10, availableTime: 12 },
      { ...w, entity: 'a', value: 2, eventTime: 20, availableTime: 30 },
      { ...w, feature: 'n', entity: 'a', value: 5, eventTime: 10, availableTime: 10 },
    ])
    const s = (
      value: ServedValueRecord['value'],
      eventTime: number | null,
      readTime: number,
      feature = 'f',
    ) => ({
      entity: 'a',
      feature,
      value,
      eventTime,
      readTime,
    })
    const served = [
      s(1, 10, 25), // ok: 2 not yet available at 25
      s(2, 20, 25), // skew: served before it was available
      s(null, null, 5), // ok: nothing yet
      s(5, 10, 11, 'n'), // ok: int64 served as a number
      s(null, null, 1000, 'n'), // ok only with maxAge: the reader's TTL hid it
    ]
    const res = await skewAudit(served, log, { maxAge: { n: 100 } })
    expect(res.checked).toBe(5)
    expect(res.matched).toBe(4)
    expect(res.mismatches).toEqual([
      {
        entity: 'a',
        feature: 'f',
        readTime: 25,
        served: 2,
        logged: 1,
        servedEventTime: 20,
        loggedEventTime: 10,
      },
    ])
    const noTtl = await skewAudit(served, log)
    expect(noTtl.mismatches.map((m) => m.readTime)).toEqual([25, 1000])
    expect(noTtl.byFeature.n).toEqual({ checked: 2, mismatches: 1, inFlight: 0 })
    expect(noTtl.inFlight).toEqual([])
  })

  it('with inFlightMs, a value the store served before its acknowledgement is in flight, not skew', async () => {
    const log = memoryLog({ features: { f: 'double' } })
    const w = { feature: 'f', entity: 'a', version: 0, outcome: 'applied' as const }
    await log.append([
      { ...w, value: 1, eventTime: 10, availableTime: 12 },
      { ...w, value: 2, eventTime: 20, availableTime: 30 }, // applied by the store before 30, acked at 30
      { ...w, value: 3, eventTime: 40, availableTime: 45 },
      { ...w, value: 4, eventTime: 44, availableTime: 47 }, // a second write inside the slack
    ])
    const read = (value: number, eventTime: number, readTime: number) => ({
      entity: 'a',
      feature: 'f',
      value,
      eventTime,
      readTime,
    })
    const served = [
      read(2, 20, 27), // 3 ms before the ack: in flight
      read(2, 20, 20), // 10 ms before the ack: beyond the slack, skew
      read(9, 20, 27), // a value the log never had: skew, slack or not
      read(3, 40, 43), // the log has 3 at 45 (then 4 at 47): in flight, every ms of the slack is probed
      read(1, 10, 27), // what the log says: matched
    ]
    const res = await skewAudit(served, log, { inFlightMs: 5 })
    expect(res.checked).toBe(5)
    expect(res.matched).toBe(1)
    expect(res.inFlight[0]).toEqual({
      entity: 'a',
      feature: 'f',
      readTime: 27,
      served: 2,
      logged: 1,
      servedEventTime: 20,
      loggedEventTime: 10,
    })
    expect(res.inFlight.map((m) => [m.readTime, m.served])).toEqual([
      [27, 2],
      [43, 3],
    ])
    expect(res.mismatches.map((m) => [m.readTime, m.served])).toEqual([
      [20, 2],
      [27, 9],
    ])
    expect(res.byFeature.f).toEqual({ checked: 5, mismatches: 2, inFlight: 2 })
    const strict = await skewAudit(served, log)
    expect(strict.mismatches).toHaveLength(4)
    expect(strict.inFlight).toEqual([])
    // A record's own answeredTime is its slack: the store answered at some instant up to it.
    const answered = await skewAudit(
      [
        { ...read(2, 20, 26), answeredTime: 29 }, // 29 + 1 ms of rounding reaches the ack at 30,
        { ...read(2, 20, 26), answeredTime: 28 },
      ],
      log,
    )
    expect(answered.inFlight.map((m) => m.readTime)).toEqual([26])
    expect(answered.mismatches.map((m) => m.readTime)).toEqual([26])
    await expect(skewAudit(served, log, { inFlightMs: -1 })).rejects.toThrow(/inFlightMs/)
  })
})
