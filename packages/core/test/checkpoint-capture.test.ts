/**
 * The checkpoint pause copies the operator's state (`capture`) and builds the plain data later
 * (`toData`): the data must be the state at the capture, whatever the operator did since, and a
 * block reused by the next capture must never change data already handed out.
 */
import { describe, expect, it } from 'vitest'
import { count, defineFeatures, hopping, max, session, sum } from '../src/index.js'
import { createOperator } from '../src/internal.js'

interface Ev {
  user: string
  ts: number
  amount: number
}

const M = 60_000
const features = defineFeatures<Ev>({
  entity: (e) => e.user,
  eventTime: (e) => e.ts,
  features: {
    clicks_5m: { window: hopping('5m', '1m'), aggregate: count() },
    amount_1h: { window: hopping('1h', '10m'), aggregate: sum(), value: (e) => e.amount, emit: 'tiles' },
    // Object states (not in the numeric slab): a session window and a max.
    biggest: { window: session('10m'), aggregate: max(), value: (e) => e.amount },
  },
})

/** Events of `users` users from `t0`, one per 10 s, with some disorder. */
const events = (from: number, n: number, users: number, t0: number): Ev[] =>
  Array.from({ length: n }, (_, j) => {
    const i = from + j
    return { user: `u${(i * 7) % users}`, ts: t0 + i * 10_000 - ((i * 13) % 5) * 1000, amount: (i * 31) % 97 }
  })

describe('checkpoint capture', () => {
  it('toData() is the state at the capture, after the operator moved on; a reused block changes nothing handed out', () => {
    const op = createOperator([features], { sources: 1, watermark: { outOfOrderness: '1m' } })
    const t0 = 10 * M
    op.process(events(0, 400, 50, t0), 0)
    const atFirst = JSON.stringify(op.snapshot())
    const first = op.capture()
    // New entities, new tiles and sessions, evictions of old tiles: the live state changes everywhere.
    op.process(events(400, 600, 80, t0), 0)
    op.advanceWatermark(t0 + 1000 * 10_000)
    const firstData = first.toData()
    expect(JSON.stringify(firstData)).toBe(atFirst)
    expect(() => first.toData()).toThrow(/twice/)

    // The next capture copies into the block the first one returned.
    const atSecond = JSON.stringify(op.snapshot())
    const second = op.capture()
    op.process(events(1000, 300, 120, t0), 0)
    expect(JSON.stringify(second.toData())).toBe(atSecond)
    // The first data was built from that block: it must not have moved.
    expect(JSON.stringify(firstData)).toBe(atFirst)

    // An operator restored from the captured data goes on like one that read the same events.
    const twin = createOperator([features], { sources: 1, watermark: { outOfOrderness: '1m' } })
    twin.process(events(0, 400, 50, t0), 0)
    twin.process(events(400, 600, 80, t0), 0)
    twin.advanceWatermark(t0 + 1000 * 10_000)
    const restored = createOperator([features], { sources: 1, watermark: { outOfOrderness: '1m' } })
    restored.restore(JSON.parse(atSecond))
    const more = events(1300, 200, 120, t0)
    const got = restored.process(more, 0).updates
    expect(got.length).toBeGreaterThan(0)
    expect(got).toEqual(twin.process(more, 0).updates)
  })

  it('two captures in flight do not share a block', () => {
    // The same users throughout: every capture fits in the spare block.
    const op = createOperator([features], { sources: 1, watermark: { outOfOrderness: '1m' } })
    op.process(events(0, 300, 40, 0), 0)
    op.capture().toData() // leaves a spare block
    const a = JSON.stringify(op.snapshot())
    const ca = op.capture()
    op.process(events(300, 300, 40, 0), 0)
    const b = JSON.stringify(op.snapshot())
    const cb = op.capture()
    op.process(events(600, 300, 40, 0), 0)
    expect(JSON.stringify(cb.toData())).toBe(b)
    expect(JSON.stringify(ca.toData())).toBe(a)
  })
})
