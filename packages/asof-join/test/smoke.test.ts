import { describe, expect, it } from 'vitest'
import { asOfJoin, asOfJoinTable } from '../src/index.js'
import { fakeLog, logTable, type Rec } from './helpers/fake-log.js'

const r = (entity: string, eventTime: number, availableTime: number, value: number, version = 0): Rec => ({
  entity,
  feature: 'f',
  value,
  eventTime,
  availableTime,
  version,
  outcome: 'applied',
})

describe('smoke', () => {
  it('joins', async () => {
    const recs = [r('a', 10, 10, 1), r('a', 20, 50, 2), r('b', 5, 5, 3)]
    const labels = { entity: ['a', 'a', 'a', 'b', 'c'], time: [15, 30, 60, 4, 100] }
    const t = asOfJoinTable(labels, logTable(recs, { f: 'double' }), { features: ['f'], includeAge: true })
    expect(t.getChild('f')?.toArray().length).toBe(5)
    expect([...(t.getChild('f') ?? [])]).toEqual([1, 1, 2, null, null])
    const t2 = await asOfJoin(labels, fakeLog(recs, { f: 'double' }), { features: ['f'], by: 'event' })
    expect([...(t2.getChild('f') ?? [])]).toEqual([1, 2, 2, null, null])
  })
})
