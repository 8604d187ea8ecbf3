/**
 * Backfill at event granularity (issue 12): any chunking of one history — one array, random
 * chunks, one event per chunk — gives the same log, record for record (availableTime included),
 * and the same training set, equal to a brute-force reference computed at every label time from
 * the raw events and the window rules of core/src/windows.ts.
 *
 * The reference is the live pipeline the backfill simulates, stated directly: every event arrives
 * at its event time and is processed at once (outOfOrderness 0), and a value is readable
 * `availabilityDelay` (D) later. At label time L the pipeline has processed every event with
 * `t <= L − D`; its watermark, which fires the decays, is the greatest of those times, F. So the
 * value served at L is the window at F over the entity's events with `t <= L − D` (null when the
 * entity has none yet).
 */
import { asOfJoin } from '@skewless/asof-join'
import { count, defineFeatures, hopping, max, sum, tumbling, type WindowSpec } from '@skewless/core'
import { inWindowAt } from '@skewless/core/adapter'
import { backfill, memoryLog } from '@skewless/offline-log'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

interface Ev {
  user: string
  ts: number
  amount: number
}

const W_CLICKS = tumbling('10s')
const W_SPEND = hopping('20s', '5s')
const W_TOP = hopping('20s', '10s')
const group = defineFeatures<Ev>({
  entity: (e) => e.user,
  eventTime: (e) => e.ts,
  features: {
    clicks: { window: W_CLICKS, aggregate: count() },
    spend: { window: W_SPEND, aggregate: sum(), value: (e) => e.amount },
    top: { window: W_TOP, aggregate: max(), value: (e) => e.amount },
  },
})
const FEATURES = ['clicks', 'spend', 'top'] as const
const T0 = Date.UTC(2026, 0, 1)

async function* chunks(events: Ev[], cuts: number[]) {
  let at = 0
  for (const c of cuts) {
    if (c > at) yield events.slice(at, c)
    at = Math.max(at, c)
  }
  if (at < events.length) yield events.slice(at)
}

type BackfillSource = Parameters<typeof backfill<Ev>>[0]['source']

async function runBackfill(source: BackfillSource, delay: number, outOfOrderness = 0, late?: unknown[]) {
  const log = memoryLog({ features: group.describe() })
  await backfill({
    source,
    features: group,
    log,
    availabilityDelay: delay,
    watermark: { outOfOrderness, allowedLateness: 2000 },
    ...(late === undefined ? {} : { lateEvents: collectInto(late) }),
  })
  const rows: string[] = []
  for await (const b of log.scanRows({ features: [...FEATURES] }))
    for (const w of b) rows.push(JSON.stringify(w))
  // The log is a set of records: how a memory log orders rows depends on its write calls.
  return { log, rows: rows.sort() }
}

/** What the simulated live pipeline served for `user` at label time `at`. */
function reference(events: Ev[], user: string, at: number, delay: number, outOfOrderness: number) {
  const seen = events.filter((e) => e.ts <= at - delay)
  const mine = seen.filter((e) => e.user === user)
  if (mine.length === 0) return { clicks: null, spend: null, top: null }
  const frontier = Math.max(...seen.map((e) => e.ts))
  // Decays fire at the watermark, outOfOrderness behind the frontier; the entity's own last event
  // moved its value to that event's window already.
  const instant = Math.max(frontier - outOfOrderness, Math.max(...mine.map((e) => e.ts)))
  const inWin = (w: WindowSpec) => mine.filter((e) => inWindowAt(e.ts, instant, w))
  const tops = inWin(W_TOP).map((e) => e.amount)
  return {
    clicks: inWin(W_CLICKS).length,
    spend: inWin(W_SPEND).reduce((s, e) => s + e.amount, 0),
    top: tops.length === 0 ? null : Math.max(...tops),
  }
}

describe('backfill at event granularity', () => {
  it('any chunking gives the same log and the training set of the brute-force reference', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            user: fc.constantFrom('a', 'b', 'c'),
            // 0: same instant as the previous event (runs of equal event time span chunk cuts).
            step: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 12_000 })),
            amount: fc.integer({ min: 1, max: 9 }),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        fc.array(fc.nat(40), { maxLength: 8 }),
        fc.constantFrom(0, 1500),
        fc.constantFrom(0, 3000),
        fc.array(fc.integer({ min: -5000, max: 60_000 }), { maxLength: 10 }),
        async (raw, rawCuts, delay, ooo, extraLabels) => {
          let t = T0
          const events = raw.map((x) => {
            t += x.step
            return { user: x.user, ts: t, amount: x.amount }
          })
          const cuts = [...rawCuts].sort((x, y) => x - y)
          const whole = await runBackfill(events, delay, ooo)
          const random = await runBackfill(chunks(events, cuts), delay, ooo)
          const single = await runBackfill(
            chunks(
              events,
              events.map((_, i) => i),
            ),
            delay,
            ooo,
          )
          expect(random.rows).toEqual(whole.rows)
          expect(single.rows).toEqual(whole.rows)

          // Labels at every instant where a served value can change, around it, and elsewhere.
          const times = new Set<number>()
          for (const e of events) for (const d of [-1, 0, 1, delay - 1, delay, delay + 1]) times.add(e.ts + d)
          for (const x of extraLabels) times.add(t + x)
          const labels: { entity: string; time: number }[] = []
          for (const user of ['a', 'b', 'c']) for (const time of times) labels.push({ entity: user, time })
          const expected = labels.map((l) => ({ ...l, ...reference(events, l.entity, l.time, delay, ooo) }))
          for (const r of [whole, random, single]) {
            const table = await asOfJoin(labels, r.log, { features: [...FEATURES], by: 'available' })
            const got = labels.map((l, i) => ({
              ...l,
              clicks: toNum(table.getChild('clicks')?.get(i)),
              spend: toNum(table.getChild('spend')?.get(i)),
              top: toNum(table.getChild('top')?.get(i)),
            }))
            expect(got).toEqual(expected)
          }
        },
      ),
      { numRuns: 60 },
    )
  })

  it('out-of-order history: any chunking gives the same log and the same late events', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            user: fc.constantFrom('a', 'b'),
            step: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 6000 })),
            // Out of order by up to 8 s: beyond outOfOrderness + allowedLateness some are late.
            back: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 8000 })),
            amount: fc.integer({ min: 1, max: 9 }),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        fc.array(fc.nat(40), { maxLength: 8 }),
        async (raw, rawCuts) => {
          let t = T0
          const events = raw.map((x) => {
            t += x.step
            return { user: x.user, ts: t - x.back, amount: x.amount }
          })
          const cuts = [...rawCuts].sort((x, y) => x - y)
          const lateWhole: unknown[] = []
          const lateRandom: unknown[] = []
          const lateSingle: unknown[] = []
          const whole = await runBackfill(events, 700, 3000, lateWhole)
          const random = await runBackfill(chunks(events, cuts), 700, 3000, lateRandom)
          const single = await runBackfill(
            chunks(
              events,
              events.map((_, i) => i),
            ),
            700,
            3000,
            lateSingle,
          )
          expect(random.rows).toEqual(whole.rows)
          expect(single.rows).toEqual(whole.rows)
          expect(lateRandom).toEqual(lateWhole)
          expect(lateSingle).toEqual(lateWhole)
        },
      ),
      { numRuns: 60 },
    )
  })
})

const collectInto = (into: unknown[]) => ({
  write: (xs: readonly { eventTime: number; event: Ev }[]) => {
    for (const x of xs) into.push([x.eventTime, x.event.user])
  },
  flush: async () => undefined,
  close: async () => undefined,
})

const toNum = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v))
