/**
 * Inputs read exactly (issue 15): every code point of every string survives (a leading U+FEFF
 * included), Arrow timestamps of every unit are converted with integer arithmetic, sliced Arrow
 * inputs honour their offset for every column type, and inputs that used to be accepted silently
 * throw typed errors.
 */
import { InvalidArgumentError, SkewlessError } from '@skewless/core'
import { memoryLog } from '@skewless/offline-log'
import {
  Bool,
  type Data,
  DataType,
  Dictionary,
  Float64,
  Int32,
  Int64,
  makeData,
  makeVector,
  type Table,
  TimestampMicrosecond,
  TimestampNanosecond,
  TimestampSecond,
  tableFromArrays,
  Utf8,
  vectorFromArray,
} from 'apache-arrow'
import { describe, expect, it } from 'vitest'
import {
  asOfJoin,
  asOfJoinTable,
  InvalidOptionError,
  InvalidTimeError,
  LogClosedError,
  MissingFeatureError,
  UnsupportedRecordError,
} from '../src/index.js'
import { logTable, type Rec } from './helpers/fake-log.js'

const bomDecoder = new TextDecoder('utf-8', { ignoreBOM: true })

/** A string column decoded from its bytes with a decoder that keeps U+FEFF (Arrow's `get` drops it). */
function strings(t: Table, name: string): (string | null)[] {
  const out: (string | null)[] = []
  for (const d of (t.getChild(name) as unknown as { data: Data[] }).data) {
    const isDict = DataType.isDictionary(d.type)
    const src = isDict ? (d.dictionary?.data[0] as Data) : d
    for (let i = 0; i < d.length; i++) {
      const k = d.offset + i
      if (d.nullCount > 0 && (((d.nullBitmap as Uint8Array)[k >> 3] as number) & (1 << (k & 7))) === 0) {
        out.push(null)
        continue
      }
      const j = isDict ? Number(d.values[i]) : i
      const offs = src.valueOffsets as Int32Array
      out.push(
        bomDecoder.decode((src.values as Uint8Array).subarray(offs[j] as number, offs[j + 1] as number)),
      )
    }
  }
  return out
}

const col = (t: Table, name: string) => [...(t.getChild(name) as Iterable<unknown>)]

const rec = (entity: string, feature: string, value: Rec['value'], time: number): Rec => ({
  entity,
  feature,
  value,
  eventTime: time,
  availableTime: time,
  version: 0,
  outcome: 'applied',
})

describe('every code point survives', () => {
  const write = {
    entity: '\uFEFFk',
    feature: 's',
    value: '\uFEFFv',
    eventTime: 100,
    availableTime: 100,
    version: 0,
    outcome: 'applied' as const,
  }
  const labels = { entity: ['\uFEFFk'], time: [100], note: ['\uFEFFn'] }

  it('a leading U+FEFF in feature values, the entity and carried label columns (memoryLog)', async () => {
    const log = memoryLog({ features: { s: 'string' } })
    await log.append([write])
    const out = await asOfJoin(labels, log, { features: ['s'] })
    expect(strings(out, 'entity')).toEqual(['\uFEFFk'])
    expect(strings(out, 'note')).toEqual(['\uFEFFn'])
    expect(strings(out, 's')).toEqual(['\uFEFFv'])
  })

  it('multi-batch Arrow labels carry their columns unchanged', () => {
    const log = logTable([write], { s: 'string' })
    const part = (e: string, note: string) =>
      tableFromArrays({
        entity: vectorFromArray([e], new Utf8()) as never,
        time: Float64Array.from([100]),
        note: vectorFromArray([note], new Dictionary(new Utf8(), new Int32())) as never,
      })
    const labels2 = part('\uFEFFk', '\uFEFFn').concat(part('x', 'y\uFEFF'))
    const out = asOfJoinTable(labels2, log, { features: ['s'] })
    expect(strings(out, 'entity')).toEqual(['\uFEFFk', 'x'])
    expect(strings(out, 'note')).toEqual(['\uFEFFn', 'y\uFEFF'])
    expect(strings(out, 's')).toEqual(['\uFEFFv', null])
  })

  it('the same from a table log, Arrow labels and a dictionary-encoded value column', () => {
    const log = logTable([write, rec('\uFEFFk', 's', '\uFEFF\uFEFFw', 200)], { s: 'string' })
    const arrowLabels = tableFromArrays({
      entity: vectorFromArray(['\uFEFFk', '\uFEFFk'], new Utf8()) as never,
      time: Float64Array.from([150, 250]),
      note: vectorFromArray(['\uFEFFa', 'b\uFEFF'], new Dictionary(new Utf8(), new Int32())) as never,
    })
    const out = asOfJoinTable(arrowLabels, log, { features: ['s'] })
    expect(strings(out, 'entity')).toEqual(['\uFEFFk', '\uFEFFk'])
    expect(strings(out, 'note')).toEqual(['\uFEFFa', 'b\uFEFF'])
    expect(strings(out, 's')).toEqual(['\uFEFFv', '\uFEFF\uFEFFw'])
    const dictLog = log.assign(
      tableFromArrays({
        value_string: vectorFromArray(
          ['\uFEFFv', '\uFEFF\uFEFFw'],
          new Dictionary(new Utf8(), new Int32()),
        ) as never,
      }),
    )
    expect(strings(asOfJoinTable(arrowLabels, dictLog, { features: ['s'] }), 's')).toEqual([
      '\uFEFFv',
      '\uFEFF\uFEFFw',
    ])
  })
})

describe('Arrow timestamps of every unit are exact', () => {
  const T = 1_700_000_219_010
  const log = logTable([rec('a', 'f', 1, T)], { f: 'double' })
  const ts = (type: DataType, values: bigint[]) =>
    makeVector(
      makeData({
        type: type as TimestampNanosecond,
        length: values.length,
        data: BigInt64Array.from(values),
      }),
    )
  const labelsOf = (type: DataType, values: bigint[]) =>
    tableFromArrays({ entity: values.map(() => 'a') as never, time: ts(type, values) as never })

  it('a Timestamp(ns) or Timestamp(µs) label exactly at the record is inclusive', () => {
    const ns = labelsOf(new TimestampNanosecond(), [BigInt(T) * 1_000_000n, BigInt(T) * 1_000_000n - 1n])
    expect(col(asOfJoinTable(ns, log, { features: ['f'] }), 'f')).toEqual([1, null])
    const us = labelsOf(new TimestampMicrosecond(), [BigInt(T) * 1000n, BigInt(T) * 1000n - 1n])
    expect(col(asOfJoinTable(us, log, { features: ['f'] }), 'f')).toEqual([1, null])
  })

  it('a sub-millisecond label just after a record is after it, also with inclusive: false', () => {
    const ns = labelsOf(new TimestampNanosecond(), [
      BigInt(T) * 1_000_000n + 1n,
      BigInt(T + 1) * 1_000_000n - 1n,
    ])
    const opts = { features: [{ name: 'f', includeAge: true }], inclusive: false }
    const out = asOfJoinTable(ns, log, opts)
    expect(col(out, 'f')).toEqual([1, 1])
    expect(col(out, 'f__age_ms')).toEqual([0n, 0n])
  })

  it('a 200-label sweep of ns label times at and around records', () => {
    const recs: Rec[] = []
    const labelNs: bigint[] = []
    const expected: (number | null)[] = []
    for (let i = 0; i < 200; i++) {
      const t = T + i * 1013
      recs.push(rec(`e${i}`, 'f', i, t))
      const d = BigInt((i % 3) - 1) // one ns before, at, after
      labelNs.push(BigInt(t) * 1_000_000n + d)
      expected.push(d < 0n ? null : i)
    }
    const labels = tableFromArrays({
      entity: recs.map((r) => r.entity) as never,
      time: ts(new TimestampNanosecond(), labelNs) as never,
    })
    expect(col(asOfJoinTable(labels, logTable(recs, { f: 'double' }), { features: ['f'] }), 'f')).toEqual(
      expected,
    )
  })

  it('a log whose time columns are Timestamp(ns) is read exactly', () => {
    const base = logTable([rec('a', 'f', 1, T)], { f: 'double' })
    const nsCol = ts(new TimestampNanosecond(), [BigInt(T) * 1_000_000n])
    const nsLog = base.assign(tableFromArrays({ event_time: nsCol as never, available_time: nsCol as never }))
    expect(
      col(asOfJoinTable({ entity: ['a', 'a'], time: [T, T - 1] }, nsLog, { features: ['f'] }), 'f'),
    ).toEqual([1, null])
  })

  it('an instant beyond what the log stores throws InvalidTimeError', () => {
    const far = labelsOf(new TimestampSecond(), [1n, 9_000_000_000_000_000n])
    let err: unknown
    try {
      asOfJoinTable(far, log, { features: ['f'] })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(InvalidTimeError)
    expect((err as InvalidTimeError).row).toBe(1)
    expect((err as Error).message).toContain('unit')
  })
})

describe('sliced Arrow inputs honour their offset', () => {
  const types = { d: 'double', i: 'int64', s: 'string', b: 'bool' } as const
  const recs: Rec[] = [
    rec('u0', 'd', 9.5, 1000),
    rec('u1', 'd', 2.5, 2000),
    rec('u2', 'd', 3.5, 3000),
    rec('u1', 'i', 7n, 2000),
    rec('u2', 'i', 8n, 3000),
    rec('u1', 's', 'x', 2000),
    rec('u2', 's', 'y', 3000),
    rec('u1', 'b', true, 2000),
    rec('u2', 'b', false, 3000),
  ]
  const features = ['d', 'i', 's', 'b']

  it('the issue repro: the log table sliced after its first row', () => {
    const log = logTable([rec('u0', 'd', 1.5, 1000), rec('u1', 'd', 2.5, 2000), rec('u2', 'd', 3.5, 3000)], {
      d: 'double',
    })
    const out = asOfJoinTable({ entity: ['u1', 'u2'], time: [2500, 3500] }, log.slice(1), { features: ['d'] })
    expect(col(out, 'd')).toEqual([2.5, 3.5])
  })

  it('every column type of a sliced log (Utf8 and dictionary entities, nulls on both sides of the cut)', () => {
    const full = logTable([rec('u9', 'd', null, 500), ...recs], types)
    const labels = { entity: ['u1', 'u2', 'u0'], time: [2500, 3500, 1500] }
    const expected = { d: [2.5, 3.5, 9.5], i: [7n, 8n, null], s: ['x', 'y', null], b: [true, false, null] }
    const check = (log: Table) => {
      const out = asOfJoinTable(labels, log, { features, by: 'available' })
      for (const f of features) expect(col(out, f)).toEqual(expected[f as keyof typeof expected])
    }
    check(full.slice(1))
    const dict = full.assign(
      tableFromArrays({
        entity: vectorFromArray(
          ['u9', ...recs.map((r) => String(r.entity))],
          new Dictionary(new Utf8(), new Int32()),
        ) as never,
        feature: vectorFromArray(
          ['d', ...recs.map((r) => r.feature)],
          new Dictionary(new Utf8(), new Int32()),
        ) as never,
      }),
    )
    check(dict.slice(1))
    // Cut inside the int64 and version columns too: a log of int entities sliced in the middle.
    const ints = logTable(
      [rec('5', 'i', 1n, 100), rec('7', 'i', 70n, 200), rec('8', 'i', 80n, 300), rec('7', 'i', 71n, 400)],
      { i: 'int64' },
      { intEntities: true },
    )
    const cut = ints.slice(1, 3)
    expect(
      col(asOfJoinTable({ entity: [7, 8, 5], time: [1000, 1000, 1000] }, cut, { features: ['i'] }), 'i'),
    ).toEqual([70n, 80n, null])
  })

  it('sliced labels (Arrow table) keep their rows, times and carried columns', () => {
    const log = logTable(recs, types)
    const labels = tableFromArrays({
      entity: ['zz', 'u1', 'u2'] as never,
      time: makeVector(
        makeData({
          type: new TimestampNanosecond(),
          length: 3,
          data: BigInt64Array.from([1n, 2_500_000_000n, 3_500_000_000n]),
        }),
      ) as never,
      x: Float64Array.from([0, 1, 2]),
      y: makeVector(
        makeData({ type: new Int64(), length: 3, data: BigInt64Array.from([0n, 10n, 20n]) }),
      ) as never,
      note: ['n0', 'n1', 'n2'] as never,
    }).slice(1)
    const out = asOfJoinTable(labels, log, { features })
    expect(col(out, 'x')).toEqual([1, 2])
    expect(col(out, 'y')).toEqual([10n, 20n])
    expect(col(out, 'note')).toEqual(['n1', 'n2'])
    expect(col(out, 'd')).toEqual([2.5, 3.5])
    expect(col(out, 's')).toEqual(['x', 'y'])
  })

  it('a sliced Bool label column and Float64/Int32 slices', () => {
    const log = logTable(recs, types)
    const labels = tableFromArrays({
      entity: makeVector(
        makeData({ type: new Int32(), length: 3, data: Int32Array.from([0, 1, 2]) }),
      ) as never,
      time: makeVector(
        makeData({ type: new Float64(), length: 3, data: Float64Array.from([1, 2500, 3500]) }),
      ) as never,
      flag: vectorFromArray([true, false, true], new Bool()) as never,
    }).slice(1)
    const out = asOfJoinTable(
      labels,
      logTable(
        recs.map((r) => ({ ...r, entity: String(r.entity).slice(1) })),
        types,
      ),
      {
        features: ['d'],
      },
    )
    expect(col(out, 'flag')).toEqual([false, true])
    expect(col(out, 'd')).toEqual([2.5, 3.5])
    expect(log.numRows).toBe(recs.length)
  })
})

describe('inputs that were accepted silently throw typed errors', () => {
  const log = logTable([rec('a', 'f', 1, 10)], { f: 'double' })

  it("inclusive: 'yes'", () => {
    const call = () =>
      asOfJoinTable({ entity: ['a'], time: [10] }, log, { features: ['f'], inclusive: 'yes' as never })
    expect(call).toThrow(InvalidOptionError)
    expect(call).toThrow(InvalidArgumentError)
    expect(call).toThrow(/inclusive/)
  })

  it('an unknown outcome in a table log', () => {
    const bad = log.assign(tableFromArrays({ outcome: vectorFromArray(['rejected'], new Utf8()) as never }))
    let err: unknown
    try {
      asOfJoinTable({ entity: ['a'], time: [10] }, bad, { features: ['f'] })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(UnsupportedRecordError)
    expect((err as UnsupportedRecordError).column).toBe('outcome')
    expect((err as Error).message).toContain("'rejected'")
  })

  it('a join on a closed memoryLog', async () => {
    const m = memoryLog({ features: { f: 'double' } })
    await m.append([{ ...rec('a', 'f', 1, 10), entity: 'a' } as never])
    await m.close()
    const err = await asOfJoin({ entity: ['a'], time: [10] }, m, { features: ['f'] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(LogClosedError)
    expect(err).toBeInstanceOf(SkewlessError)
    expect((err as SkewlessError).code).toBe('log-closed')
  })

  it('a feature missing from a table log', () => {
    let err: unknown
    try {
      asOfJoinTable({ entity: ['a'], time: [10] }, log, { features: ['f', 'g'] })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(MissingFeatureError)
    expect((err as MissingFeatureError).code).toBe('missing-feature')
    expect((err as Error).message).toContain("'g'")
  })
})

describe('wide joins move every value type exactly', () => {
  it('int64 values whose bits read as NaN, bools and strings, with and without the apply worker, in tiny batches', () => {
    const types = { i: 'int64', s: 'string', b: 'bool', d: 'double' } as const
    const big = [-1n, -(2n ** 63n), 2n ** 63n - 1n, -(2n ** 52n) - 3n, 0x7ff0_0000_0000_0001n]
    const recs: Rec[] = []
    big.forEach((v, e) => {
      recs.push(rec(`e${e}`, 'i', v, 10 + e))
      recs.push(rec(`e${e}`, 's', `\uFEFFs${e}\u0000é`, 10 + e))
      recs.push(rec(`e${e}`, 'b', e % 2 === 0, 10 + e))
      recs.push(rec(`e${e}`, 'd', e === 0 ? null : -0.5 * e, 10 + e))
    })
    const labels = { entity: big.map((_, e) => `e${e}`), time: big.map(() => 100) }
    for (const workers of [0, 1] as const) {
      for (const batchSize of [1, 3, 100]) {
        const out = asOfJoinTable(labels, logTable(recs, types, { batchSize }), {
          features: ['i', 's', 'b', 'd'],
          workers,
        })
        expect(col(out, 'i')).toEqual(big)
        expect(strings(out, 's')).toEqual(big.map((_, e) => `\uFEFFs${e}\u0000é`))
        expect(col(out, 'b')).toEqual(big.map((_, e) => e % 2 === 0))
        expect(col(out, 'd')).toEqual([null, -0.5, -1, -1.5, -2])
      }
    }
  })
})

describe('the apply worker with many buckets', () => {
  it('1500 features (3000 staging buffers) with the worker: every buffer is applied, nothing waits forever', () => {
    const F = 1500
    const recs: Rec[] = []
    for (let f = 0; f < F; f++) recs.push(rec('a', `f${f}`, f, 10))
    const features = recs.map((r) => ({ name: r.feature, type: 'double' as const }))
    const types = Object.fromEntries(features.map((f) => [f.name, 'double' as const]))
    const out = asOfJoinTable({ entity: ['a'], time: [20] }, logTable(recs, types), { features, workers: 1 })
    for (let f = 0; f < F; f += 97) expect(col(out, `f${f}`)).toEqual([f])
    expect(col(out, `f${F - 1}`)).toEqual([F - 1])
  }, 60_000)
})
