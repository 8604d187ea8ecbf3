/**
 * Property tests: for random event streams (disorder within the bound, some events far too late,
 * random micro-batch boundaries) every emitted value equals a brute-force reference computed from
 * the definition over the events accepted so far; values decay; late events are counted exactly;
 * a snapshot/restore mid-stream yields the same output as an uninterrupted run.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  count,
  defineFeatures,
  type FeatureUpdate,
  type FeatureValue,
  hopping,
  max,
  mean,
  min,
  session,
  sum,
  tumbling,
  type WindowSpec,
  windowAt,
} from '../src/index.js'
import { createOperator } from '../src/internal.js'

interface Ev {
  k: string
  t: number
  v: number
  /** `v`, or a value the numeric aggregators reject (dead letter for `total10` and `hi10` only). */
  w: number | string
}

const OOO = 3_000
const LATENESS = 2_000
const windows = {
  cnt: hopping(10_000, 2_000),
  total: hopping(6_000, 3_000),
  avg: tumbling(4_000),
  peak: session(2_500),
  low: tumbling(5_000),
  // Same shape as `cnt`: these share its tile ring, including events only `cnt` accepts.
  total10: hopping(10_000, 2_000),
  hi10: hopping(10_000, 2_000),
} satisfies Record<string, WindowSpec>

const group = defineFeatures<Ev>({
  entity: (e) => e.k,
  eventTime: (e) => e.t,
  features: {
    cnt: { window: windows.cnt, aggregate: count() },
    total: { window: windows.total, aggregate: sum(), value: (e) => e.v },
    avg: { window: windows.avg, aggregate: mean(), value: (e) => e.v },
    peak: { window: windows.peak, aggregate: max(), value: (e) => e.v },
    low: { window: windows.low, aggregate: min(), value: (e) => e.v },
    total10: { window: windows.total10, aggregate: sum(), value: (e) => e.w },
    hi10: { window: windows.hi10, aggregate: max(), value: (e) => e.w },
  },
})
const EMPTY: Record<string, FeatureValue> = {
  cnt: 0,
  total: 0,
  avg: null,
  peak: null,
  low: null,
  total10: 0,
  hi10: null,
}

/** The definition, evaluated directly: value of `feature` at `t` over `events` (all at or before t). */
function reference(feature: keyof typeof windows, events: Ev[], t: number): FeatureValue {
  if (feature === 'peak') {
    const ts = events.slice().sort((a, b) => a.t - b.t)
    if (ts.length === 0) return null
    let start = 0
    for (let i = 1; i < ts.length; i++) if ((ts[i] as Ev).t - (ts[i - 1] as Ev).t >= 2_500) start = i
    const last = ts.slice(start)
    if (t >= (last[last.length - 1] as Ev).t + 2_500) return null
    return Math.max(...last.map((e) => e.v))
  }
  const w = windowAt(t, windows[feature])
  const inW = events.filter((e) => e.t >= w.start && e.t < w.end && e.t <= t)
  if (feature === 'cnt') return inW.length
  if (feature === 'total10' || feature === 'hi10') {
    const ws = inW.flatMap((e) => (typeof e.w === 'number' ? [e.w] : []))
    if (feature === 'total10') return ws.reduce((a, x) => a + x, 0)
    return ws.length === 0 ? null : Math.max(...ws)
  }
  if (feature === 'low') return inW.length === 0 ? null : Math.min(...inW.map((e) => e.v))
  const s = inW.reduce((a, e) => a + e.v, 0)
  if (feature === 'total') return s
  return inW.length === 0 ? null : s / inW.length
}

const streamArb = fc
  .array(
    fc.record({
      k: fc.constantFrom('a', 'b', 'c', 'd'),
      step: fc.integer({ min: 0, max: 1_500 }),
      disorder: fc.integer({ min: 0, max: OOO }),
      late: fc.boolean().map((b) => b && Math.random() < 0.1),
      v: fc.integer({ min: -5, max: 20 }),
      bad: fc.integer({ min: 0, max: 4 }),
      cut: fc.integer({ min: 0, max: 4 }),
    }),
    { minLength: 1, maxLength: 120 },
  )
  .map((raw) => {
    let base = 1_000_000
    const batches: Ev[][] = [[]]
    for (const r of raw) {
      base += r.step
      const t = base - r.disorder - (r.late ? OOO + LATENESS + 5_000 : 0)
      ;(batches[batches.length - 1] as Ev[]).push({ k: r.k, t, v: r.v, w: r.bad === 0 ? 'oops' : r.v })
      if (r.cut === 0) batches.push([])
    }
    return batches.filter((b) => b.length > 0)
  })

function run(batches: Ev[][], restoreAt = -1) {
  let op = createOperator(group, { watermark: { outOfOrderness: OOO, allowedLateness: LATENESS } })
  const perBatch: FeatureUpdate[][] = []
  const late: number[] = []
  batches.forEach((b, i) => {
    if (i === restoreAt) {
      const snap = JSON.parse(JSON.stringify(op.snapshot()))
      op = createOperator(group, { watermark: { outOfOrderness: OOO, allowedLateness: LATENESS } })
      op.restore(snap)
    }
    const out = op.process(b)
    perBatch.push(out.updates)
    late.push(out.late.length)
  })
  const drained = op.advanceWatermark(Number.POSITIVE_INFINITY)
  return { perBatch, late, drained, op }
}

describe('operator properties', () => {
  it('emits exactly the reference value, in (eventTime, version) order, and counts late events', () => {
    fc.assert(
      fc.property(streamArb, (batches) => {
        const { perBatch, late, drained } = run(batches)
        // Model of acceptance: late iff t < watermark(batch start) - lateness.
        let wm = Number.NEGATIVE_INFINITY
        let maxT = Number.NEGATIVE_INFINITY
        const accepted: Ev[] = []
        const lastOut = new Map<string, FeatureUpdate>()
        batches.forEach((b, i) => {
          let lateHere = 0
          for (const e of b) {
            if (e.t < wm - LATENESS) lateHere++
            else {
              accepted.push(e)
              maxT = Math.max(maxT, e.t)
            }
          }
          expect(late[i]).toBe(lateHere)
          wm = Math.max(wm, maxT - OOO)
          for (const u of perBatch[i] as FeatureUpdate[]) {
            const evs = accepted.filter((e) => e.k === u.entity)
            expect(evs.every((e) => e.t <= u.eventTime)).toBe(true)
            expect(u.value).toEqual(reference(u.feature as keyof typeof windows, evs, u.eventTime))
            const prev = lastOut.get(`${u.entity}/${u.feature}`)
            if (prev) {
              const newer =
                u.eventTime > prev.eventTime || (u.eventTime === prev.eventTime && u.version > prev.version)
              expect(newer).toBe(true)
            }
            lastOut.set(`${u.entity}/${u.feature}`, u)
          }
          // No missed change: each pair's last emitted value is its value now.
          for (const [pair, u] of lastOut) {
            const [k, f] = pair.split('/') as [string, keyof typeof windows]
            const evs = accepted.filter((e) => e.k === k)
            const at = Math.max(u.eventTime, wm)
            expect(u.value, `${pair} at ${at}`).toEqual(reference(f, evs, at))
          }
        })
        // Decay: draining the watermark returns every feature to its empty value.
        for (const u of drained) lastOut.set(`${u.entity}/${u.feature}`, u)
        for (const [pair, u] of lastOut) expect(u.value).toEqual(EMPTY[pair.split('/')[1] as string])
      }),
      { numRuns: 300 },
    )
  })

  it('snapshot + restore mid-stream gives the same output as an uninterrupted run', () => {
    fc.assert(
      fc.property(streamArb, fc.nat(), (batches, at) => {
        const restoreAt = at % (batches.length + 1)
        const a = run(batches)
        const b = run(batches, restoreAt)
        expect(b.perBatch).toEqual(a.perBatch)
        expect(b.drained).toEqual(a.drained)
        expect(b.op.metrics).toEqual(a.op.metrics)
      }),
      { numRuns: 200 },
    )
  })
})
