import { memoryLog } from '@skewless/offline-log'
import { DataType, tableFromArrays } from 'apache-arrow'
import { describe, expect, it } from 'vitest'
import { asOfJoin, asOfJoinTable, entityPartition } from '../src/index.js'
import { logTable, oracle, type Rec } from './helpers/fake-log.js'

const rec = (
  entity: string | number,
  eventTime: number,
  availableTime: number,
  value: number,
  version = 0,
): Rec => ({
  entity,
  feature: 'f',
  value,
  eventTime,
  availableTime,
  version,
  outcome: 'applied',
})
const T = { f: 'double' } as const
const col = (t: { getChild(n: string): unknown }, name: string) => [
  ...((t.getChild(name) as Iterable<unknown>) ?? []),
]

describe('leak-free semantics', () => {
  it('a value computed but not yet available is not joined; event mode would leak it', () => {
    const log = logTable([rec('a', 10, 10, 1), rec('a', 20, 100, 2)], T)
    const labels = { entity: ['a', 'a', 'a'], time: [50, 100, 99] }
    expect(col(asOfJoinTable(labels, log, { features: ['f'] }), 'f')).toEqual([1, 2, 1])
    expect(col(asOfJoinTable(labels, log, { features: ['f'], by: 'event' }), 'f')).toEqual([2, 2, 2])
  })

  it('a late correction (old eventTime, available late) wins only once available and only if newest by eventTime', () => {
    // 15 is a correction of the value at eventTime 15 that only became available at 200.
    const log = logTable([rec('a', 10, 10, 1), rec('a', 15, 200, 9), rec('a', 30, 30, 3)], T)
    const labels = { entity: ['a', 'a', 'a', 'a'], time: [20, 199, 200, 25] }
    // t=20: 15 not available yet -> 1; t=199: 30 is newest -> 3; t=25 before 200 -> still 1.
    expect(col(asOfJoinTable(labels, log, { features: ['f'] }), 'f')).toEqual([1, 3, 3, 1])
    const log2 = logTable([rec('a', 10, 10, 1), rec('a', 15, 200, 9)], T)
    expect(col(asOfJoinTable(labels, log2, { features: ['f'] }), 'f')).toEqual([1, 1, 9, 1])
  })

  it('inclusive (<=) by default, strict (<) on request', () => {
    const log = logTable([rec('a', 10, 12, 1)], T)
    const labels = { entity: ['a', 'a', 'a'], time: [10, 12, 13] }
    expect(col(asOfJoinTable(labels, log, { features: ['f'] }), 'f')).toEqual([null, 1, 1])
    expect(col(asOfJoinTable(labels, log, { features: ['f'], inclusive: false }), 'f')).toEqual([
      null,
      null,
      1,
    ])
    expect(col(asOfJoinTable(labels, log, { features: ['f'], by: 'event', inclusive: false }), 'f')).toEqual([
      null,
      1,
      1,
    ])
  })

  it("ties on eventTime: higher version wins, then the earlier availableTime (core's compareRecord, as stateAt), then later in scan order", () => {
    // Same (eventTime, version) is one write logged more than once, so real copies carry one value;
    // distinct values here show which copy is taken. Before core's rule the join took the latest
    // availableTime (4 at t = 12) while stateAt took the earliest (1).
    const log = logTable(
      [rec('a', 10, 12, 3, 2), rec('a', 10, 11, 2, 1), rec('a', 10, 10, 1, 2), rec('a', 10, 10, 4, 2)],
      T,
    )
    const labels = { entity: ['a', 'a', 'a'], time: [10, 11, 12] }
    expect(col(asOfJoinTable(labels, log, { features: ['f'] }), 'f')).toEqual([4, 4, 4])
    expect(col(asOfJoinTable(labels, log, { features: ['f'], by: 'event' }), 'f')).toEqual([4, 4, 4])
    const later = logTable([rec('a', 10, 11, 5, 2), rec('a', 10, 11, 6, 1), rec('a', 10, 12, 7, 2)], T)
    expect(col(asOfJoinTable(labels, later, { features: ['f'] }), 'f')).toEqual([null, 5, 5])
  })

  it('stale writes are never joined', () => {
    const log = logTable([rec('a', 10, 10, 1), { ...rec('a', 20, 20, 2), outcome: 'stale' }], T)
    expect(col(asOfJoinTable({ entity: ['a'], time: [30] }, log, { features: ['f'] }), 'f')).toEqual([1])
  })

  it('maxAge nulls values older than the limit (an age equal to it is kept), with event time and age columns', () => {
    const log = logTable([rec('a', 10, 10, 1)], T)
    const out = asOfJoinTable({ entity: ['a', 'a', 'a'], time: [15, 20, 21] }, log, {
      features: [{ name: 'f', maxAge: '10ms', includeEventTime: true, includeAge: true }],
    })
    expect(col(out, 'f')).toEqual([1, 1, null])
    expect(col(out, 'f__event_time')).toEqual([10, 10, null])
    expect(col(out, 'f__age_ms')).toEqual([5n, 10n, null])
    expect(String(out.schema.fields.find((f) => f.name === 'f__event_time')?.type)).toBe(
      'Timestamp<MILLISECOND>',
    )
  })

  it('keeps every label row, in order, with all its columns; unknown, null and too-early entities get null', () => {
    const log = logTable([rec('a', 10, 10, 1), rec('b', 10, 10, 2)], T)
    const labels = tableFromArrays({
      label: Float64Array.from([0.5, 1.5, 2.5, 3.5, 4.5]),
      entity: ['b', 'zzz', 'a', null, 'a'] as never,
      time: Float64Array.from([20, 20, 5, 20, 20]),
      note: ['x', 'y', 'z', 'w', 'v'],
    })
    const out = asOfJoinTable(labels, log, { features: ['f'] })
    expect(out.schema.fields.map((f) => f.name)).toEqual(['label', 'entity', 'time', 'note', 'f'])
    expect(col(out, 'label')).toEqual([0.5, 1.5, 2.5, 3.5, 4.5])
    expect(col(out, 'note')).toEqual(['x', 'y', 'z', 'w', 'v'])
    expect(col(out, 'f')).toEqual([2, null, null, null, 1])
  })

  it('accepts multi-batch Arrow labels (dictionary keys, Timestamp times) and keeps them in order', () => {
    const log = logTable([rec('a', 10, 10, 1), rec('b', 10, 10, 2)], T)
    const part = (e: string[], t: number[]) =>
      tableFromArrays({ entity: e as never, time: t.map((x) => new Date(x)) as never, y: Int32Array.from(t) })
    const labels = part(['a', 'b'], [20, 5]).concat(part(['b', 'zz', 'a'], [30, 30, 9]))
    expect(labels.batches.length).toBe(2)
    const out = asOfJoinTable(labels, log, { features: ['f'] })
    expect(col(out, 'f')).toEqual([1, null, 2, null, null])
    expect(col(out, 'y')).toEqual([20, 5, 30, 30, 9])
    expect(col(out, 'entity')).toEqual(['a', 'b', 'b', 'zz', 'a'])
  })

  it('integer label keys match a Utf8 log entity by decimal string, and an integer log entity by value', () => {
    const recs = [rec('7', 10, 10, 1), rec('007', 10, 10, 2), rec('8', 10, 10, 3)]
    const labels = { entity: Int32Array.from([7, 8, 9]), time: [20, 20, 20] }
    expect(col(asOfJoinTable(labels, logTable(recs, T), { features: ['f'] }), 'f')).toEqual([1, 3, null])
    const intLog = logTable([rec(7, 10, 10, 1), rec(8, 10, 10, 3)], T, { intEntities: true })
    expect(col(asOfJoinTable(labels, intLog, { features: ['f'] }), 'f')).toEqual([1, 3, null])
    const rows = [{ entity: 7n, time: new Date(20) }]
    expect(col(asOfJoinTable(rows, intLog, { features: ['f'] }), 'f')).toEqual([1])
  })

  it('entities with many labels (binary-search path) match the oracle', () => {
    const recs: Rec[] = []
    for (let i = 0; i < 300; i++)
      recs.push(rec(i % 3, (i * 37) % 1000, ((i * 37) % 1000) + (i % 7) * 40, i, i % 4))
    const labels = Array.from({ length: 400 }, (_, i) => ({ entity: i % 4, time: (i * 53) % 1100 }))
    const want = oracle(labels, recs, ['f'], { by: 'available', inclusive: true, maxAge: {} })
    for (const partitions of [1, 3]) {
      const out = asOfJoinTable(labels, logTable(recs, T, { batchSize: 50 }), { features: ['f'], partitions })
      expect(col(out, 'f')).toEqual(want.map((w) => w[0]?.rec?.value ?? null))
    }
  })

  it('the worker thread gives the same result as the main thread on many buckets', () => {
    let seed = 99
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed % n
    }
    const recs: Rec[] = []
    for (let i = 0; i < 60_000; i++) {
      const et = rnd(1_000_000)
      recs.push(rec(rnd(3000), et, et + (rnd(10) === 0 ? rnd(200_000) : rnd(100)), rnd(1000), rnd(3)))
    }
    const labels = {
      entity: Int32Array.from({ length: 30_000 }, () => rnd(3100)),
      time: Float64Array.from({ length: 30_000 }, () => rnd(1_100_000)),
    }
    const log = logTable(recs, T, { batchSize: 7000 })
    for (const by of ['available', 'event'] as const) {
      const a = asOfJoinTable(labels, log, {
        features: [{ name: 'f', maxAge: 500_000 }],
        by,
        workers: 0,
        includeAge: true,
      })
      const b = asOfJoinTable(labels, log, {
        features: [{ name: 'f', maxAge: 500_000 }],
        by,
        workers: 1,
        includeAge: true,
      })
      expect(col(b, 'f')).toEqual(col(a, 'f'))
      expect(col(b, 'f__age_ms')).toEqual(col(a, 'f__age_ms'))
      expect(col(a, 'f').filter((x) => x !== null).length).toBeGreaterThan(10_000)
    }
  })

  it('types the output by feature type: int64, string, bool', async () => {
    const log = memoryLog({ features: { n: 'int64', s: 'string', b: 'bool' } })
    await log.append([
      { entity: 'a', feature: 'n', value: 5, eventTime: 1, availableTime: 1, version: 0, outcome: 'applied' },
      {
        entity: 'a',
        feature: 's',
        value: 'hi',
        eventTime: 1,
        availableTime: 1,
        version: 0,
        outcome: 'applied',
      },
      {
        entity: 'a',
        feature: 'b',
        value: true,
        eventTime: 1,
        availableTime: 1,
        version: 0,
        outcome: 'applied',
      },
    ])
    const out = await asOfJoin(
      [
        { entity: 'a', time: 2 },
        { entity: 'a', time: 0 },
      ],
      log,
      { features: ['n', 's', 'b'] },
    )
    expect(col(out, 'n')).toEqual([5n, null])
    expect(col(out, 's')).toEqual(['hi', null])
    expect(col(out, 'b')).toEqual([true, null])
    const types = Object.fromEntries(out.schema.fields.map((f) => [f.name, f.type]))
    expect(DataType.isInt(types.n)).toBe(true)
    expect(DataType.isUtf8(types.s)).toBe(true)
    expect(DataType.isBool(types.b)).toBe(true)
  })

  it('empty labels and an empty log give typed empty or null outputs', async () => {
    const log = memoryLog({ features: T })
    const out = await asOfJoin({ entity: ['a'], time: [1] }, log, { features: ['f'] })
    expect(col(out, 'f')).toEqual([null])
    const empty = await asOfJoin({ entity: [] as string[], time: [] as number[] }, log, { features: ['f'] })
    expect(empty.numRows).toBe(0)
    expect(empty.schema.fields.map((f) => f.name)).toEqual(['entity', 'time', 'f'])
  })

  it('entityPartition hashes ints like their decimal string and is stable', () => {
    expect(entityPartition(42, 8)).toBe(entityPartition('42', 8))
    expect(entityPartition('user-1', 16)).toBe(entityPartition('user-1', 16))
    expect(entityPartition('x', 1)).toBe(0)
  })
})
