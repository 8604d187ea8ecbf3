import { type FeatureWrite, hopping, tileStart, tumbling, type ValueType } from '@skewless/core'
import { memoryLog } from '@skewless/offline-log'
import { tableFromArrays } from 'apache-arrow'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { asOfJoin, type FeatureRequest } from '../src/index.js'
import { fakeLog, logTable, oracle, type Rec, tileOracle } from './helpers/fake-log.js'

// t and u are additive tile features (records carry tile_start), the others whole values.
const TYPES: Record<string, ValueType> = {
  f: 'double',
  g: 'string',
  h: 'int64',
  k: 'bool',
  t: 'double',
  u: 'int64',
}
const ALL = ['f', 'g', 'h', 'k', 't', 'u']
const TILED = new Set(['t', 'u'])

function valueFor(feature: string, n: number): Rec['value'] {
  if (n === 0) return null
  // Tenths are not exact in binary: a sum in another order than the reader's would differ.
  if (feature === 't') return n / 10
  switch (TYPES[feature]) {
    case 'double':
      return n + 0.5
    case 'string':
      return `s${n}`
    case 'int64':
      return BigInt(n)
    default:
      return n % 2 === 0
  }
}

const recArb = fc
  .record({
    e: fc.integer({ min: 0, max: 4 }),
    feature: fc.constantFrom(...ALL),
    v: fc.integer({ min: 0, max: 50 }),
    eventTime: fc.integer({ min: 0, max: 40 }),
    // availability lag: mostly small, sometimes a late correction far behind its event time
    lag: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 10, max: 60 })),
    version: fc.integer({ min: 0, max: 3 }),
    stale: fc.boolean().map((b) => b && Math.random() < 0.3),
    // tile features: the update's tile is this many hops before its eventTime's (-1: a tile after
    // it, which core never emits but the reader still handles)
    tileBack: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constant(-1)),
  })
  .map((x) => ({ ...x, stale: x.stale }))

const labelArb = fc.record({
  e: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constant(-1)), // 5, 6 unknown, -1 null
  time: fc.integer({ min: -5, max: 80 }),
})

const scenario = fc.record({
  recs: fc.array(recArb, { maxLength: 60 }),
  labels: fc.array(labelArb, { maxLength: 30 }),
  by: fc.constantFrom('available' as const, 'event' as const),
  inclusive: fc.boolean(),
  intKeys: fc.boolean(),
  intLog: fc.boolean(),
  features: fc.subarray(ALL, { minLength: 1 }),
  maxAge: fc.array(fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 20 })), {
    minLength: ALL.length,
    maxLength: ALL.length,
  }),
  window: fc.constantFrom(tumbling(10), hopping(20, 5), hopping(9, 3), hopping(4, 4)),
  extra: fc.boolean(),
  partitions: fc.integer({ min: 1, max: 3 }),
  labelShape: fc.constantFrom('columns', 'rows', 'arrow'),
  logShape: fc.constantFrom('table', 'offline', 'memory'),
  batch: fc.integer({ min: 1, max: 9 }),
  workers: fc.constantFrom(0 as const, 1 as const),
})

describe('asOfJoin vs brute-force oracle', () => {
  it('matches on random logs with ties, lags, late corrections, stale writes and unknown entities', async () => {
    // The second pass keeps only the double whole-value feature (and sometimes a tile feature, joined
    // on the main thread beside it), with the apply worker always used.
    const workerOnly = scenario.map((s) => ({
      ...s,
      features: s.features.includes('t') ? ['f', 't'] : ['f'],
      workers: 1 as const,
    }))
    for (const [arb, numRuns] of [
      [scenario, 300],
      [workerOnly, 60],
    ] as const) {
      await fc.assert(
        fc.asyncProperty(arb, async (s) => {
          const key = (e: number) => (s.intKeys ? e : `e${e}`)
          const recs: Rec[] = s.recs.map((r) => ({
            entity: key(r.e),
            feature: r.feature,
            value: valueFor(r.feature, r.v),
            eventTime: r.eventTime,
            availableTime: r.eventTime + r.lag,
            version: r.version,
            outcome: r.stale ? 'stale' : 'applied',
            tileStart: TILED.has(r.feature)
              ? tileStart(r.eventTime, s.window.hopMs) - r.tileBack * s.window.hopMs
              : null,
          }))
          const labels = s.labels.map((l) => ({ entity: l.e < 0 ? null : key(l.e), time: l.time }))
          const ids = labels.map((_, i) => i)
          const reqs: FeatureRequest[] = s.features.map((name) => ({
            name,
            maxAge: s.maxAge[ALL.indexOf(name)],
            // A random log may hold no record of a feature: typed, its column is then all null.
            type: TYPES[name],
            window: TILED.has(name) ? s.window : undefined,
          }))
          const options = {
            features: reqs,
            by: s.by,
            inclusive: s.inclusive,
            includeAge: s.extra,
            includeEventTime: s.extra,
            partitions: s.partitions,
            workers: s.workers,
          }
          const intLog = s.intKeys && s.intLog && s.logShape === 'table'
          let log: Parameters<typeof asOfJoin>[1]
          if (s.logShape === 'table') log = logTable(recs, TYPES, { batchSize: s.batch, intEntities: intLog })
          else if (s.logShape === 'offline') log = fakeLog(recs, TYPES, s.batch)
          else {
            const mem = memoryLog({ features: TYPES })
            const writes: FeatureWrite[] = recs.map((r) => ({
              entity: String(r.entity),
              feature: r.feature,
              value: typeof r.value === 'bigint' ? Number(r.value) : r.value,
              eventTime: r.eventTime,
              availableTime: r.availableTime,
              version: r.version,
              outcome: r.outcome,
              ...(r.tileStart === null ? {} : { tileStart: r.tileStart }),
            }))
            await mem.append(writes)
            log = mem
          }
          const input =
            s.labelShape === 'rows'
              ? labels.map((l, i) => ({ id: i, entity: l.entity, time: l.time }))
              : s.labelShape === 'columns'
                ? {
                    id: ids,
                    entity: labels.map((l) => l.entity),
                    time: Float64Array.from(labels.map((l) => l.time)),
                  }
                : tableFromArrays({
                    id: Int32Array.from(ids),
                    entity: labels.map((l) => l.entity) as never,
                    time: Float64Array.from(labels.map((l) => l.time)),
                  })
          if (labels.length === 0 && s.labelShape === 'rows') return
          const out = await asOfJoin(input, log, options)
          const maxAge: Record<string, number> = {}
          for (const r of reqs) if (r.maxAge !== undefined) maxAge[r.name] = r.maxAge as number
          const want = oracle(labels, recs, s.features, { by: s.by, inclusive: s.inclusive, maxAge })
          expect(out.numRows).toBe(labels.length)
          expect([...(out.getChild('id') ?? [])].map(Number)).toEqual(ids)
          s.features.forEach((f, fi) => {
            if (TILED.has(f)) {
              const exp = tileOracle(labels, recs, f, s.window, {
                by: s.by,
                inclusive: s.inclusive,
                maxAge: maxAge[f],
              })
              const got = [...(out.getChild(f) ?? [])].map((x) => (x === null ? null : Number(x)))
              expect(got).toEqual(exp.map((w) => w?.value ?? null))
              if (s.extra) {
                expect([...(out.getChild(`${f}__event_time`) ?? [])]).toEqual(
                  exp.map((w) => w?.eventTime ?? null),
                )
                expect(
                  [...(out.getChild(`${f}__age_ms`) ?? [])].map((x) => (x === null ? null : Number(x))),
                ).toEqual(exp.map((w) => w?.age ?? null))
              }
              return
            }
            const got = [...(out.getChild(f) ?? [])]
            const exp = want.map((w) => (w[fi]?.rec ? w[fi].rec.value : null))
            expect(got).toEqual(exp)
            if (s.extra) {
              expect([...(out.getChild(`${f}__event_time`) ?? [])]).toEqual(
                want.map((w) => (w[fi]?.rec ? w[fi].rec.eventTime : null)),
              )
              expect(
                [...(out.getChild(`${f}__age_ms`) ?? [])].map((x) => (x === null ? null : Number(x))),
              ).toEqual(want.map((w) => w[fi]?.age ?? null))
            } else {
              expect(out.getChild(`${f}__age_ms`)).toBeNull()
            }
          })
        }),
        { numRuns },
      )
    }
    // The apply worker now takes every value type, so about half the 300 first-pass cases start a
    // worker thread per partition: on a loaded 2-core machine that alone takes tens of seconds.
  }, 180_000)
})
