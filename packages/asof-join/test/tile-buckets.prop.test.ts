/**
 * The tile join stages records into buckets of label slots and places a bucket when its buffer
 * fills (tile-join.ts). With the default geometry the other tests see a single bucket placed at the
 * end; here the buckets are tiny, so an entity's records are placed over several flushes, entities
 * of one bucket interleave, and two tile features share a bucket. The answer must not change.
 */
import { hopping, tileStart, tumbling } from '@skewless/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { buildLabelIndex } from '../src/label-index.js'
import { createOutput } from '../src/output.js'
import type { ResolvedFeature } from '../src/resolve-features.js'
import { TileJoin } from '../src/tile-join.js'
import { type Rec, tileOracle } from './helpers/fake-log.js'

const ENTITIES = 8
const WINDOWS = [tumbling(10), hopping(20, 5), hopping(9, 3)]

const scenario = fc.record({
  recs: fc.array(
    fc.record({
      e: fc.integer({ min: 0, max: ENTITIES - 1 }),
      f: fc.integer({ min: 0, max: 1 }),
      v: fc.integer({ min: 0, max: 50 }),
      eventTime: fc.integer({ min: 0, max: 40 }),
      lag: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 10, max: 60 })),
      version: fc.integer({ min: 0, max: 3 }),
      tileBack: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constant(-1)),
    }),
    { maxLength: 80 },
  ),
  labels: fc.array(
    fc.record({ e: fc.integer({ min: 0, max: ENTITIES - 1 }), time: fc.integer({ min: -5, max: 80 }) }),
    { maxLength: 40 },
  ),
  windows: fc.tuple(fc.constantFrom(...WINDOWS), fc.constantFrom(...WINDOWS)),
  maxAge: fc.oneof(fc.constant(Number.POSITIVE_INFINITY), fc.integer({ min: 0, max: 20 })),
  by: fc.constantFrom('available' as const, 'event' as const),
  inclusive: fc.boolean(),
  shift: fc.integer({ min: 0, max: 3 }),
  cap: fc.integer({ min: 1, max: 5 }),
})

describe('tile join buckets', () => {
  it('placing records bucket by bucket, in several flushes, gives the oracle answer', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const features: ResolvedFeature[] = s.windows.map((window, i) => ({
          name: `t${i}`,
          type: 'double',
          typed: true,
          kind: 0,
          maxAgeMs: s.maxAge,
          includeEventTime: true,
          includeAge: false,
          window,
        }))
        const codes = Int32Array.from(s.labels.map((l) => l.e))
        const times = Float64Array.from(s.labels.map((l) => l.time))
        const index = buildLabelIndex(codes, times, ENTITIES)
        const join = new TileJoin(index, features, s.inclusive, s.by === 'available', {
          shift: s.shift,
          cap: s.cap,
        })
        const recs: Rec[] = s.recs.map((r) => {
          const hopMs = (features[r.f] as ResolvedFeature).window?.hopMs as number
          const rec: Rec = {
            entity: String(r.e),
            feature: `t${r.f}`,
            value: r.v === 0 ? null : r.v / 10,
            eventTime: r.eventTime,
            availableTime: r.eventTime + r.lag,
            version: r.version,
            outcome: 'applied',
            tileStart: tileStart(r.eventTime, hopMs) - r.tileBack * hopMs,
          }
          const valid = rec.value === null ? 0 : 1
          join.add(
            r.e,
            r.f,
            rec.tileStart as number,
            r.eventTime,
            r.version,
            rec.availableTime,
            Number(rec.value),
            valid,
          )
          return rec
        })
        const out = createOutput(s.labels.length, features)
        join.finish(out.features)
        const labels = s.labels.map((l) => ({ entity: String(l.e), time: l.time }))
        features.forEach((feat, f) => {
          const col = out.features[f]
          const exp = tileOracle(labels, recs, feat.name, feat.window as { sizeMs: number; hopMs: number }, {
            by: s.by,
            inclusive: s.inclusive,
            maxAge: s.maxAge,
          })
          const got = labels.map((_, i) =>
            col?.found[i] === 1
              ? { value: col.num?.[i], eventTime: col.eventTime[i], age: col.age[i] }
              : null,
          )
          expect(got).toEqual(exp)
        })
      }),
      { numRuns: 400 },
    )
  })
})
