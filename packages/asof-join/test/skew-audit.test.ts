import { hopping } from '@skewless/core'
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

  it('probes every ms of every slack in one read of the log, not one read per probed ms', async () => {
    const log = memoryLog({ features: { f: 'double' } })
    const w = { feature: 'f', version: 0, outcome: 'applied' as const }
    const E = 40
    const writes = []
    const served: ServedValueRecord[] = []
    const read = (entity: string, value: number, eventTime: number, readTime: number, slack: number) => ({
      entity,
      feature: 'f',
      value,
      eventTime,
      readTime,
      answeredTime: readTime + slack - 1, // + 1 ms of rounding: the slack is `slack`
    })
    for (let j = 0; j < E; j++) {
      const e = `e${j}`
      const t = 1000 * (j + 1)
      writes.push(
        { ...w, entity: e, value: 1, eventTime: t, availableTime: t },
        { ...w, entity: e, value: 2, eventTime: t + 1, availableTime: t + 256 }, // acked 256 ms after the read
        { ...w, entity: e, value: 3, eventTime: t + 2, availableTime: t + 300 + j }, // visible for 1 ms only:
        { ...w, entity: e, value: 4, eventTime: t + 3, availableTime: t + 301 + j }, // hidden the next ms
        { ...w, entity: e, value: 5, eventTime: t + 4, availableTime: t + 600 + j }, // past 256 ms of slack
      )
      served.push(
        read(e, 2, t + 1, t, 256), // in flight: found at the last probed ms
        read(e, 2, t + 1, t, 255), // skew: 1 ms short of the ack
        read(e, 3, t + 2, t + 290, 50), // in flight: the log has 3 at exactly one ms of the slack
        read(e, 5, t + 4, t + 301 + j, 1024), // in flight: 1024 ms of slack probed at 256 instants
        read(e, 9, t + 4, t + 301 + j, 1024), // skew: a value the log never had
      )
    }
    await log.append(writes)
    let scans = 0
    const counted = new Proxy(log, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver)
        if (key !== 'scan' || typeof v !== 'function') return v
        return (...args: unknown[]) => {
          scans++
          return v.apply(target, args)
        }
      },
    })
    const res = await skewAudit(served, counted)
    expect(res.checked).toBe(5 * E)
    expect(res.matched).toBe(0)
    const kinds = (ms: { served: unknown; readTime: number }[]) =>
      ms.map((m) => `${m.served}@${m.readTime % 1000}`)
    expect(kinds(res.inFlight)).toEqual(
      Array.from({ length: E }, (_, j) => ['2@0', '3@290', `5@${301 + j}`]).flat(),
    )
    expect(kinds(res.mismatches)).toEqual(Array.from({ length: E }, (_, j) => ['2@0', `9@${301 + j}`]).flat())
    // The join at the read times, then one join of every probed instant (E × (256 + 50 + 256 + 256) rows).
    expect(scans).toBeLessThanOrEqual(3)
  })

  it('a tile sum read across a window boundary is judged with the window at the read time', async () => {
    // The reader sums the tiles of windowAt(readTime) of the store as it was at some instant up to
    // answeredTime. Window [90, 120) at 115, [100, 130) from 120: a write of tile 90 that lands at
    // 120 while the read is in flight is served inside the window, though at every instant the log
    // has it, the window at that instant no longer holds tile 90 (two-workers e2e: `logged: null`).
    const log = memoryLog({ features: { c: 'double' } })
    const t = { feature: 'c', outcome: 'applied' as const }
    await log.append([
      { ...t, entity: 'a', value: 15.41, eventTime: 95, version: 1, availableTime: 121, tileStart: 90 },
      { ...t, entity: 'b', value: 2, eventTime: 104, version: 1, availableTime: 50, tileStart: 100 },
      { ...t, entity: 'b', value: 3, eventTime: 104, version: 2, availableTime: 121, tileStart: 90 },
      { ...t, entity: 'b', value: 4, eventTime: 104, version: 3, availableTime: 122, tileStart: 90 },
      { ...t, entity: 'c', value: 1, eventTime: 95, version: 1, availableTime: 140, tileStart: 90 },
    ])
    const features = [{ name: 'c', strategy: 'additive' as const, window: hopping(30, 10) }]
    const read = (entity: string, value: number, eventTime: number, answeredTime = 125) => ({
      entity,
      feature: 'c',
      value,
      eventTime,
      readTime: 115,
      answeredTime,
    })
    const served = [
      read('a', 15.41, 95), // the first write of a, landed during the read: in flight
      read('b', 5, 104), // b's tile 90 as written at 120, with tile 100: in flight
      read('b', 6, 104), // ... as rewritten at 121: in flight too
      read('b', 7, 104), // a sum the log never had: skew
      read('c', 1, 95), // c's write is available only at 140, after the answer: skew
      read('a', 15.41, 95, 118), // answered before the write was visible: skew
      read('b', 2, 104), // the state at the read time: matched
    ]
    const res = await skewAudit(served, log, { features })
    expect(res.matched).toBe(1)
    expect(res.inFlight.map((m) => [m.entity, m.served, m.logged])).toEqual([
      ['a', 15.41, null],
      ['b', 5, 2],
      ['b', 6, 2],
    ])
    expect(res.mismatches.map((m) => [m.entity, m.served])).toEqual([
      ['b', 7],
      ['c', 1],
      ['a', 15.41],
    ])
  })
})
