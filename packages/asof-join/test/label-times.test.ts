import { InvalidTimeError } from '@skewless/asof-join'
import { Int64, makeVector, Table, TimestampSecond, Utf8, vectorFromArray } from 'apache-arrow'
import { describe, expect, it } from 'vitest'
import { asOfJoinTable } from '../src/index.js'
import { logTable, type Rec } from './helpers/fake-log.js'

const T = { f: 'double' } as const
const AT = Date.UTC(2026, 11, 7, 10)
const rec = (eventTime: number, value: number): Rec => ({
  entity: 'a',
  feature: 'f',
  value,
  eventTime,
  availableTime: eventTime,
  version: 0,
  outcome: 'applied',
})
const log = logTable([rec(AT - 60_000, 1), rec(AT, 2)], T)
const col = (t: Table) => [...(t.getChild('f') as unknown as Iterable<unknown>)]

describe('label times go through core parseTime, like event times', () => {
  it('ms numbers, bigints, Dates and ISO-8601 strings with an offset give the same rows', () => {
    const ms = [AT - 1, AT]
    const want = col(asOfJoinTable({ entity: ['a', 'a'], time: ms }, log, { features: ['f'] }))
    expect(want).toEqual([1, 2])
    const forms: unknown[][] = [
      ms.map((t) => BigInt(t)),
      ms.map((t) => new Date(t)),
      ms.map((t) => new Date(t).toISOString()),
      ms.map((t) => new Date(t + 3_600_000).toISOString().replace('Z', '+01:00')),
    ]
    for (const time of forms) {
      // Before: an ISO string was a ColumnTypeError here, while the pipeline's door accepted it.
      expect(
        col(asOfJoinTable({ entity: ['a', 'a'], time }, log, { features: ['f'] })),
        String(time[0]),
      ).toEqual(want)
    }
    const utf8 = new Table({
      entity: vectorFromArray(['a', 'a'], new Utf8()),
      time: vectorFromArray(
        ms.map((t) => new Date(t).toISOString()),
        new Utf8(),
      ),
    })
    expect(col(asOfJoinTable(utf8, log, { features: ['f'] }))).toEqual(want)
  })

  it('a bare number that looks like seconds is refused with what to do; Timestamp(s) columns carry their unit', () => {
    const secs = Math.floor(AT / 1000)
    for (const time of [[secs], [BigInt(secs)], [String(secs)], Float64Array.of(secs)]) {
      let err: unknown
      try {
        asOfJoinTable({ entity: ['a'], time }, log, { features: ['f'] })
      } catch (e) {
        err = e
      }
      expect(err, String(time[0])).toBeInstanceOf(InvalidTimeError)
      expect(String((err as Error).message)).toMatch(/looks like seconds.*multiply by 1000/)
    }
    const int64 = new Table({
      entity: vectorFromArray(['a']),
      time: makeVector({ type: new Int64(), data: BigInt64Array.of(BigInt(secs)) } as never),
    })
    expect(() => asOfJoinTable(int64, log, { features: ['f'] })).toThrow(InvalidTimeError)
    const tsSeconds = new Table({
      entity: vectorFromArray(['a']),
      time: vectorFromArray([secs * 1000], new TimestampSecond()),
    })
    expect(col(asOfJoinTable(tsSeconds, log, { features: ['f'] }))).toEqual([2])
    const early = Date.UTC(1971, 0, 1)
    expect(
      col(asOfJoinTable({ entity: ['a'], time: [early] }, log, { features: ['f'], allowEarlyTimes: true })),
    ).toEqual([null])
  })
})
