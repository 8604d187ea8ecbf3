import { describe, expect, it } from 'vitest'
import { asOfJoinTable, Int64RangeError } from '../src/index.js'
import { logTable, type Rec } from './helpers/fake-log.js'

const rec = (entity: string, value: number | null): Rec => ({
  entity,
  feature: 'n',
  value,
  eventTime: 10,
  availableTime: 10,
  version: 0,
  outcome: 'applied',
})
const T = { n: 'int64' } as const
const labels = { entity: ['a', 'b', 'c'], time: [20, 20, 20] }

describe("int64 output: 'bigint' (default) or 'number'", () => {
  it("'number' gives plain numbers, exact, with nulls kept null; 'bigint' gives bigints", () => {
    const log = logTable([rec('a', 2 ** 53 - 1), rec('b', null), rec('c', -42)], T)
    const features = [{ name: 'n', includeAge: true }]
    const asNumbers = asOfJoinTable(labels, log, { features, int64: 'number' })
    expect([...(asNumbers.getChild('n') as unknown as Iterable<unknown>)]).toEqual([2 ** 53 - 1, null, -42])
    expect([...(asNumbers.getChild('n__age_ms') as unknown as Iterable<unknown>)]).toEqual([10, 10, 10])
    expect(String(asNumbers.schema.fields.find((f) => f.name === 'n')?.type)).toBe('Float64')
    const asBigints = asOfJoinTable(labels, log, { features })
    expect([...(asBigints.getChild('n') as unknown as Iterable<unknown>)]).toEqual([
      2n ** 53n - 1n,
      null,
      -42n,
    ])
    // Before: only bigints, and Number(null) turned a missing value into 0 for users who converted.
  })

  it("'number' refuses a value beyond 2^53 - 1 with a typed error instead of rounding it", () => {
    const log = logTable([rec('a', 1), rec('b', 2 ** 60), rec('c', 3)], T)
    let err: unknown
    try {
      asOfJoinTable(labels, log, { features: ['n'], int64: 'number' })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(Int64RangeError)
    expect((err as Int64RangeError).code).toBe('int64-range')
    expect((err as Error).message).toMatch(/row 1 is the int64 1152921504606846976.*int64: 'bigint'/)
    const exact = asOfJoinTable(labels, log, { features: ['n'] })
    expect(exact.getChild('n')?.get(1)).toBe(2n ** 60n)
    expect(() => asOfJoinTable(labels, log, { features: ['n'], int64: 'text' as never })).toThrow(/int64/)
  })
})
