import { arraySource, count, defineFeatures, tumbling } from '@skewless/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { backfill, memoryLog } from '../src/index.js'
import { InstantRuns } from '../src/instant-runs.js'

interface Ev {
  id: number
  a: number
  b: number
}

const byA = defineFeatures<Ev>({
  entity: () => 'x',
  eventTime: (e) => e.a,
  features: { na: { window: tumbling('10s'), aggregate: count() } },
})
const byB = defineFeatures<Ev>({
  entity: () => 'x',
  eventTime: (e) => e.b,
  features: { nb: { window: tumbling('10s'), aggregate: count() } },
})

function split(groups: (typeof byA)[], chunks: Ev[][]) {
  const runs = new InstantRuns<Ev>(groups)
  const out: number[][] = []
  const take = (r: Ev[]) => out.push(r.map((e) => e.id))
  for (const c of chunks) runs.push(c, take)
  runs.end(take)
  return out
}

describe('InstantRuns', () => {
  it('cuts where any group’s event time changes, and joins a run split across chunks', () => {
    const ev = (id: number, a: number, b: number): Ev => ({ id, a, b })
    const events = [ev(0, 1, 1), ev(1, 1, 1), ev(2, 1, 2), ev(3, 2, 2), ev(4, 2, 2)]
    expect(split([byA], [events])).toEqual([
      [0, 1, 2],
      [3, 4],
    ])
    expect(split([byA, byB], [events])).toEqual([[0, 1], [2], [3, 4]])
    expect(
      split([byA, byB], [[events[0] as Ev], [events[1] as Ev, events[2] as Ev], events.slice(3)]),
    ).toEqual([[0, 1], [2], [3, 4]])
  })

  it('any chunking gives the same runs, in order, covering every event once', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ a: fc.integer({ min: 0, max: 3 }), b: fc.integer({ min: 0, max: 3 }) }), {
          maxLength: 40,
        }),
        fc.array(fc.nat(40), { maxLength: 10 }),
        (raw, rawCuts) => {
          const events = raw.map((x, id) => ({ id, ...x }))
          const cuts = [...new Set(rawCuts)].sort((x, y) => x - y)
          const chunks: Ev[][] = []
          let at = 0
          for (const c of cuts) {
            chunks.push(events.slice(at, Math.max(at, c)))
            at = Math.max(at, c)
          }
          chunks.push(events.slice(at))
          const whole = split([byA, byB], [events])
          expect(split([byA, byB], chunks)).toEqual(whole)
          expect(whole.flat()).toEqual(events.map((e) => e.id))
          for (const run of whole) {
            expect(new Set(run.map((i) => `${events[i]?.a}/${events[i]?.b}`)).size).toBe(1)
          }
        },
      ),
    )
  })
})

describe('backfill of a resumable source', () => {
  it('reads an arraySource from its start', async () => {
    const log = memoryLog({ features: byA.describe() })
    const r = await backfill({
      source: arraySource('history', [
        { id: 0, a: 1000, b: 0 },
        { id: 1, a: 2000, b: 0 },
      ]),
      features: byA,
      log,
    })
    expect(r.records).toBe(2)
    expect(r.metrics.eventsIn).toBe(2)
  })
})
