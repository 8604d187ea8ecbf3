/**
 * `version` is the number of events of the window at the update's eventTime
 * (docs/decisions/version.md). Two properties over random events and random micro-batch cuts, for
 * every emission path: the updates of a pair strictly grow in `(eventTime, version)` (what the
 * stores' compare-and-set needs), and two cuttings never give one `(eventTime, version)` two values
 * (what makes a replay cut otherwise harmless after a crash).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  aggregator,
  CheckpointMismatchError,
  count,
  defineFeatures,
  distinctCount,
  type FeatureUpdate,
  hopping,
  last,
  max,
  mean,
  min,
  session,
  sum,
  tumbling,
  unbounded,
} from '../src/index.js'
import { createOperator } from '../src/internal.js'

interface Ev {
  user: string
  ts: number
  v: number
}

const sumSq = aggregator<number, number, number>({
  kind: 'sum_sq',
  valueType: 'double',
  additive: true,
  init: () => 0,
  add: (a, v) => a + v * v,
  merge: (a, b) => a + b,
  result: (a) => a,
})

const OOO = 2000
const groups = [
  defineFeatures<Ev>({
    entity: (e) => e.user,
    eventTime: (e) => e.ts,
    features: {
      c: { window: tumbling(4000), aggregate: count() },
      cTiles: { window: hopping(4000, 1000), aggregate: count(), emit: 'tiles' },
      s: { window: hopping(3000, 1000), aggregate: sum(), value: (e) => e.v },
      sTiles: { window: tumbling(2000), aggregate: sum(), value: (e) => e.v, emit: 'tiles' },
      lo: { window: tumbling(3000), aggregate: min(), value: (e) => e.v },
      hi: { window: hopping(4000, 2000), aggregate: max(), value: (e) => e.v },
      avg: { window: hopping(3000, 1000), aggregate: mean(), value: (e) => e.v },
      lastV: { window: tumbling(2000), aggregate: last(), value: (e) => e.v },
      distinct: { window: hopping(4000, 2000), aggregate: distinctCount(), value: (e) => e.v },
      sq: { window: hopping(2000, 1000), aggregate: sumSq, value: (e) => e.v, emit: 'tiles' },
      visits: { window: session(1500), aggregate: count() },
      visitMax: { window: session(1000), aggregate: max(), value: (e) => e.v },
    },
  }),
  defineFeatures<Ev>({
    entity: (e) => e.user,
    eventTime: (e) => e.ts,
    features: {
      total: { window: unbounded(), aggregate: count() },
      lastEver: { window: unbounded(), aggregate: last(), value: (e) => e.v },
    },
  }),
]

/** Every update of a run over `events` cut by `sizes` (cycled), then drained to the last event. */
function run(events: readonly Ev[], sizes: readonly number[]): FeatureUpdate[] {
  const op = createOperator(groups, { watermark: { outOfOrderness: OOO } })
  const out: FeatureUpdate[] = []
  for (let at = 0, c = 0; at < events.length; c++) {
    const n = sizes[c % sizes.length] as number
    out.push(...op.process(events.slice(at, at + n)).updates)
    at += n
  }
  out.push(...op.advanceWatermark(op.maxEventTime))
  return out
}

const key = (u: FeatureUpdate) => `${u.entity}/${u.feature}/${u.tileStart ?? ''}`

/** Events at most OOO behind the greatest earlier one: none is behind the watermark in any cutting. */
const eventsArb = fc
  .array(
    fc.record({
      user: fc.constantFrom('a', 'b', 'c'),
      dt: fc.integer({ min: -OOO, max: 9000 }),
      v: fc.integer({ min: -3, max: 5 }),
    }),
    { minLength: 1, maxLength: 60 },
  )
  .map((raw) => {
    let top = 1_000_000
    return raw.map((e) => {
      top += e.dt > 6000 ? e.dt * 20 : Math.max(e.dt, 0) % 1500
      return { user: e.user, ts: top + Math.min(e.dt, 0), v: e.v }
    })
  })
const sizesArb = fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 5 })

describe('version: the events of the window', () => {
  it('the updates of a pair strictly grow in (eventTime, version)', () => {
    fc.assert(
      fc.property(eventsArb, sizesArb, (events, sizes) => {
        const prev = new Map<string, FeatureUpdate>()
        for (const u of run(events, sizes)) {
          const p = prev.get(key(u))
          if (p !== undefined) {
            const newer = u.eventTime > p.eventTime || (u.eventTime === p.eventTime && u.version > p.version)
            expect({ newer, p, u }).toEqual({ newer: true, p, u })
          }
          prev.set(key(u), u)
        }
      }),
      { numRuns: Number(process.env.PROP_RUNS ?? 300) },
    )
  })

  it('one (eventTime, version) has one value, whatever the micro-batches', () => {
    fc.assert(
      fc.property(eventsArb, sizesArb, sizesArb, (events, a, b) => {
        const seen = new Map<string, unknown>()
        for (const u of run(events, a)) seen.set(`${key(u)}@${u.eventTime}#${u.version}`, u.value)
        for (const u of run(events, b)) {
          const k = `${key(u)}@${u.eventTime}#${u.version}`
          if (seen.has(k)) expect({ k, value: u.value }).toEqual({ k, value: seen.get(k) })
        }
      }),
      { numRuns: Number(process.env.PROP_RUNS ?? 300) },
    )
  })

  it('refuses a format-2 checkpoint (versions counted emissions) with a typed error that says why', () => {
    const op = createOperator(groups)
    op.process([{ user: 'a', ts: 1_000_000, v: 1 }])
    const old = { ...op.snapshot(), format: 'skewless.core.checkpoint/2' }
    const fresh = createOperator(groups)
    expect(() => fresh.restore(old)).toThrow(CheckpointMismatchError)
    expect(() => fresh.restore(old)).toThrow(/by emission.*reprocessing the source from its start/)
  })
})
