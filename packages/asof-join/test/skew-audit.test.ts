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
    expect(noTtl.byFeature.n).toEqual({ checked: 2, mismatches: 1 })
  })
})
