import { describe, expect, it } from 'vitest'
import { definition, table } from '../src/format.js'

describe('definition', () => {
  it('says what the manifest records: aggregate, window and tiles; "-" when only the type is known', () => {
    const hop = { kind: 'hopping', sizeMs: 300_000, hopMs: 60_000 }
    expect(
      definition({ name: 'c', valueType: 'int64', aggregate: 'count', window: hop, emit: 'value' }),
    ).toBe('count, hopping 5m every 1m')
    const tumble = { kind: 'tumbling', sizeMs: 3_600_000, hopMs: 3_600_000 }
    expect(
      definition({ name: 's', valueType: 'double', aggregate: 'sum', window: tumble, emit: 'tiles' }),
    ).toBe('sum, tumbling 1h, tiles')
    expect(
      definition({
        name: 'l',
        valueType: 'string',
        aggregate: 'last',
        window: { kind: 'session', gapMs: 1_800_000 },
      }),
    ).toBe('last, session gap 30m')
    expect(definition({ name: 'p', valueType: 'bool' })).toBe('-')
  })
})

describe('table', () => {
  it('aligns columns, numbers to the right', () => {
    expect(
      table(
        ['name', 'rows'],
        [
          ['a', 5],
          ['bbb', 120],
        ],
      ),
    ).toBe('name  rows\na        5\nbbb    120\n')
  })
})
