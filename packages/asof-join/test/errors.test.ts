import { InvalidArgumentError, SkewlessError } from '@skewless/core'
import { memoryLog } from '@skewless/offline-log'
import { tableFromArrays } from 'apache-arrow'
import { describe, expect, it } from 'vitest'
import {
  type AsOfJoinInputError,
  asOfJoin,
  asOfJoinTable,
  ColumnTypeError,
  EntityTypeMismatchError,
  InvalidTimeError,
  MissingColumnError,
  UnsupportedRecordError,
} from '../src/index.js'
import { logTable, type Rec } from './helpers/fake-log.js'

const r: Rec = {
  entity: 'a',
  feature: 'f',
  value: 1,
  eventTime: 1,
  availableTime: 1,
  version: 0,
  outcome: 'applied',
}
const log = logTable([r], { f: 'double' })
const opts = { features: ['f'] }

function expectError(
  fn: () => unknown,
  cls: new (...a: never[]) => AsOfJoinInputError,
  code: string,
  column: string,
) {
  let err: unknown
  try {
    fn()
  } catch (e) {
    err = e
  }
  expect(err).toBeInstanceOf(cls)
  expect(err).toBeInstanceOf(SkewlessError)
  expect((err as AsOfJoinInputError).code).toBe(code)
  expect((err as AsOfJoinInputError).column).toBe(column)
  expect((err as Error).message).toContain(`'${column}'`)
}

describe('bad input: typed errors naming the column', () => {
  it('missing label columns', () => {
    expectError(() => asOfJoinTable({ time: [1] }, log, opts), MissingColumnError, 'missing-column', 'entity')
    expectError(
      () => asOfJoinTable({ entity: ['a'] }, log, opts),
      MissingColumnError,
      'missing-column',
      'time',
    )
    expectError(
      () =>
        asOfJoinTable({ user: ['a'], ts: [1] }, log, { ...opts, entityColumn: 'user', timeColumn: 'when' }),
      MissingColumnError,
      'missing-column',
      'when',
    )
  })

  it('non-time, unparsable, NaN and null times', () => {
    expectError(
      () => asOfJoinTable({ entity: ['a'], time: [true] }, log, opts),
      ColumnTypeError,
      'column-type',
      'time',
    )
    // Strings go through core's parseTime: not an ISO-8601 time with an offset, so an invalid time.
    expectError(
      () => asOfJoinTable({ entity: ['a'], time: ['noon'] }, log, opts),
      InvalidTimeError,
      'invalid-time',
      'time',
    )
    expectError(
      () => asOfJoinTable(tableFromArrays({ entity: ['a'], time: ['noon'] }), log, opts),
      InvalidTimeError,
      'invalid-time',
      'time',
    )
    expectError(
      () => asOfJoinTable({ entity: ['a', 'b'], time: Float64Array.from([1, Number.NaN]) }, log, opts),
      InvalidTimeError,
      'invalid-time',
      'time',
    )
    expectError(
      () => asOfJoinTable([{ entity: 'a', time: null }], log, opts),
      InvalidTimeError,
      'invalid-time',
      'time',
    )
  })

  it('mismatched entity types', () => {
    expectError(
      () => asOfJoinTable({ entity: ['a', 1], time: [1, 2] }, log, opts),
      ColumnTypeError,
      'column-type',
      'entity',
    )
    expectError(
      () => asOfJoinTable({ entity: [1.5], time: [1] }, log, opts),
      ColumnTypeError,
      'column-type',
      'entity',
    )
    const intLog = logTable([{ ...r, entity: 1 }], { f: 'double' }, { intEntities: true })
    expectError(
      () => asOfJoinTable({ entity: ['1'], time: [1] }, intLog, opts),
      EntityTypeMismatchError,
      'entity-type-mismatch',
      'entity',
    )
  })

  it('log without available_time in available mode, or with additive tiles', () => {
    const noAvail = tableFromArrays({
      entity: ['a'],
      feature: ['f'],
      value_double: Float64Array.from([1]),
      event_time: Float64Array.from([1]),
    })
    expectError(
      () => asOfJoinTable({ entity: ['a'], time: [2] }, noAvail, opts),
      MissingColumnError,
      'missing-column',
      'available_time',
    )
    expect([
      ...(asOfJoinTable({ entity: ['a'], time: [2] }, noAvail, { ...opts, by: 'event' }).getChild('f') ?? []),
    ]).toEqual([1])
    const tiles = logTable([{ ...r, tileStart: 0 }], { f: 'double' })
    expectError(
      () => asOfJoinTable({ entity: ['a'], time: [2] }, tiles, opts),
      UnsupportedRecordError,
      'unsupported-record',
      'tile_start',
    )
  })

  it('an output column colliding with a label column', () => {
    expectError(
      () => asOfJoinTable({ entity: ['a'], time: [2], f: [0] }, log, opts),
      ColumnTypeError,
      'column-type',
      'f',
    )
  })

  it('bad options and unknown features', async () => {
    expect(() => asOfJoinTable({ entity: ['a'], time: [1] }, log, { features: [] })).toThrow(
      InvalidArgumentError,
    )
    expect(() => asOfJoinTable({ entity: ['a'], time: [1] }, log, { ...opts, partitions: 0 })).toThrow(
      InvalidArgumentError,
    )
    expect(() => asOfJoinTable({ entity: ['a'], time: [1] }, log, { ...opts, by: 'x' as never })).toThrow(
      InvalidArgumentError,
    )
    expect(() =>
      asOfJoinTable({ entity: ['a'], time: [1] }, log, { features: [{ name: 'f', maxAge: 'soon' }] }),
    ).toThrow(/maxAge of feature 'f'/)
    await expect(
      asOfJoin({ entity: ['a'], time: [1] }, memoryLog({ features: { f: 'double' } }), { features: ['g'] }),
    ).rejects.toThrow(/feature 'g' is not declared/)
  })
})
