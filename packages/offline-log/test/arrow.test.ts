import type { FeatureWrite } from '@skewless/core'
import { tableFromIPC, tableToIPC } from 'apache-arrow'
import { describe, expect, it } from 'vitest'
import {
  filterBatch,
  fromInt64Array,
  LOG_SCHEMA_FIELDS,
  resolveScan,
  takeRows,
  toInt64Array,
  writesToRecordBatch,
} from '../src/adapter.js'
import { recordBatchToWrites } from '../src/index.js'

const types = { a: 'double', b: 'int64', s: 'string', f: 'bool' } as const
const w = (p: Partial<FeatureWrite>): FeatureWrite => ({
  entity: 'u',
  feature: 'a',
  value: null,
  eventTime: 1,
  version: 0,
  availableTime: 2,
  outcome: 'applied',
  ...p,
})

describe('Arrow conversion', () => {
  it('int64 helpers round-trip safe integers including negatives', () => {
    const xs = [0, 1, -1, 2 ** 32, -(2 ** 32) - 1, 2 ** 53 - 1, -(2 ** 53 - 1), 1793491200123]
    const a = toInt64Array(xs)
    expect([...a]).toEqual(xs.map((x) => BigInt(x)))
    expect([...fromInt64Array(a)]).toEqual(xs)
  })

  it('writesToRecordBatch uses the declared layout and round-trips through IPC', () => {
    const recs = [
      w({ entity: 'ü', feature: 's', value: '😀' }),
      w({ entity: 'x', feature: 'b', value: -(2 ** 40), tileStart: -5 }),
      w({ entity: 'y', feature: 'f', value: false, outcome: 'stale' }),
      w({ entity: 'z', feature: 'a', value: Number.NaN, eventTime: -1 }),
    ]
    const batch = writesToRecordBatch(recs, types)
    expect(batch.schema.fields.map((f) => f.name)).toEqual(LOG_SCHEMA_FIELDS.map((f) => f.name))
    expect(recordBatchToWrites(batch)).toEqual(recs)
    const back = tableFromIPC(tableToIPC([batch] as never, 'stream'))
    expect(recordBatchToWrites(back.batches[0]!)).toEqual(recs)
  })

  it('rejects a record whose feature has no declared type', () => {
    expect(() => writesToRecordBatch([w({ feature: 'zz' })], types)).toThrow(/no declared type/)
  })

  it('takeRows and filterBatch keep order, nulls and dictionaries', () => {
    const recs: FeatureWrite[] = []
    for (let i = 0; i < 100; i++) {
      recs.push(
        w({
          entity: `e${i % 7}`,
          feature: i % 2 ? 'a' : 's',
          value: i % 5 === 0 ? null : i % 2 ? i / 2 : `s${i}`,
          eventTime: i,
          outcome: i % 9 === 0 ? 'stale' : 'applied',
        }),
      )
    }
    const batch = writesToRecordBatch(recs, types)
    expect(recordBatchToWrites(takeRows(batch, [5, 3, 99]))).toEqual([recs[5], recs[3], recs[99]])
    const s = resolveScan({ features: ['a'], entities: ['e1', 'e2'], from: 10, to: 80 }, types)
    const got = recordBatchToWrites(filterBatch(batch, s)!)
    const want = recs.filter(
      (r) =>
        r.feature === 'a' &&
        (r.entity === 'e1' || r.entity === 'e2') &&
        r.eventTime >= 10 &&
        r.eventTime < 80 &&
        r.outcome !== 'stale',
    )
    expect(got).toEqual(want)
    expect(filterBatch(batch, resolveScan({ features: ['a', 's'], includeStale: true }, types))).toBe(batch)
    expect(filterBatch(batch, resolveScan({ features: ['b'] }, types))).toBeNull()
  })

  it('builds 1M rows in well under a second (no per-row vectorFromArray)', () => {
    const n = 200_000
    const recs: FeatureWrite[] = new Array(n)
    for (let i = 0; i < n; i++) recs[i] = w({ entity: `user-${i % 5000}`, value: i, eventTime: i })
    const batch = writesToRecordBatch(recs, types)
    expect(batch.numRows).toBe(n)
    expect(batch.getChild('entity')!.get(5001)).toBe('user-1')
  })
})
