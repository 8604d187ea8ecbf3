import type { FeatureWrite } from '@skewless/core'
import { tableFromIPC, tableToIPC } from 'apache-arrow'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { stateAtFromBatches, writesToRecordBatch } from '../src/adapter.js'
import { memoryLog, recordBatchToWrites } from '../src/index.js'

const types = { d: 'double', i: 'int64', s: 'string', b: 'bool' } as const
const time = fc.integer({ min: -1e12, max: 4e12 })

const write: fc.Arbitrary<FeatureWrite> = fc
  .record({
    entity: fc.string({ unit: 'binary', maxLength: 6 }),
    feature: fc.constantFrom('d', 'i', 's', 'b'),
    d: fc.oneof(fc.double(), fc.constant(null)),
    i: fc.oneof(fc.maxSafeInteger(), fc.constant(null)),
    s: fc.oneof(fc.string({ unit: 'binary', maxLength: 8 }), fc.constant(null)),
    b: fc.oneof(fc.boolean(), fc.constant(null)),
    eventTime: time,
    availableTime: time,
    version: fc.integer({ min: 0, max: 5 }),
    stale: fc.boolean(),
    tile: fc.option(time, { nil: undefined }),
  })
  .map((r) => {
    const w: FeatureWrite = {
      entity: r.entity,
      feature: r.feature,
      value: r[r.feature as 'd' | 'i' | 's' | 'b'],
      eventTime: r.eventTime,
      version: r.version,
      availableTime: r.availableTime,
      outcome: r.stale ? 'stale' : 'applied',
    }
    if (r.tile !== undefined) w.tileStart = r.tile
    return w
  })

function reference(records: FeatureWrite[], t: number, by: 'event' | 'available'): FeatureWrite[] {
  const best = new Map<string, FeatureWrite>()
  for (const r of records) {
    if (r.outcome === 'stale' || (by === 'event' ? r.eventTime : r.availableTime) > t) continue
    // An additive feature's tiles are held separately: one state per tile.
    const k = `${r.feature}\u0000${r.entity}\u0000${r.tileStart ?? ''}`
    const c = best.get(k)
    const later = c
      ? r.eventTime - c.eventTime || r.version - c.version || r.availableTime - c.availableTime
      : 1
    if (later > 0) best.set(k, r)
  }
  return [...best.values()]
}

const key = (w: FeatureWrite) =>
  `${w.feature}\u0000${w.entity}\u0000${w.tileStart ?? ''}\u0000${w.eventTime}\u0000${w.version}\u0000${w.availableTime}`

describe('properties', () => {
  it('Arrow conversion round-trips any valid records, also through IPC', () => {
    fc.assert(
      fc.property(fc.array(write, { maxLength: 40 }), (records) => {
        const batch = writesToRecordBatch(records, types)
        expect(recordBatchToWrites(batch)).toEqual(records)
        const back = tableFromIPC(tableToIPC([batch] as never, 'stream'))
        for (const b of back.batches) expect(recordBatchToWrites(b)).toEqual(records)
      }),
      { numRuns: 200 },
    )
  })

  it('stateAt equals the reference semantics, both bases, and every scanned batch is sorted', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(write, { maxLength: 60 }),
        time,
        fc.constantFrom('event', 'available'),
        async (records, t, by) => {
          const log = memoryLog({ features: types })
          await log.append(records.slice(0, 30))
          await log.append(records.slice(30))
          const got = await log.stateAt(t, {
            features: ['d', 'i', 's', 'b'],
            by: by as 'event' | 'available',
            // Any instant, 1970-1973 included: this checks the semantics, not a unit guess.
            allowEarlyTimes: true,
          })
          const want = reference(records, t, by as 'event' | 'available')
          expect(got.map(key).sort()).toEqual(want.map(key).sort())
          for await (const b of log.scan({ features: ['d', 'i', 's', 'b'], includeStale: true })) {
            const rows = recordBatchToWrites(b)
            for (let i = 1; i < rows.length; i++) {
              const a = rows[i - 1] as FeatureWrite
              const c = rows[i] as FeatureWrite
              expect(
                a.entity < c.entity ||
                  (a.entity === c.entity &&
                    (a.eventTime < c.eventTime || (a.eventTime === c.eventTime && a.version <= c.version))),
              ).toBe(true)
            }
          }
        },
      ),
      { numRuns: 150 },
    )
  })

  it('stateAt compacting its kept rows at every batch equals the reference, values included', async () => {
    // Few entities, many records each: most rows are beaten, so compaction runs and drops them.
    const crowded = fc.tuple(write, fc.constantFrom('a', 'b', 'c')).map(([w, entity]) => ({ ...w, entity }))
    await fc.assert(
      fc.asyncProperty(
        fc.array(crowded, { maxLength: 80 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 20 }),
        time,
        fc.constantFrom('event', 'available'),
        async (records, cuts, t, by) => {
          const batches = []
          for (let i = 0, c = 0; i < records.length; c++) {
            const n = cuts[c % cuts.length] as number
            batches.push(writesToRecordBatch(records.slice(i, i + n), types))
            i += n
          }
          const got = await stateAtFromBatches(batches, t, by as 'event' | 'available', 0)
          const want = reference(records, t, by as 'event' | 'available')
          const sorted = (ws: FeatureWrite[]) => [...ws].sort((x, y) => (key(x) < key(y) ? -1 : 1))
          expect(sorted(got)).toEqual(sorted(want))
        },
      ),
      { numRuns: 200 },
    )
  })
})
