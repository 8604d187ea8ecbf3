import { describe, expect, it } from 'vitest'
import {
  count,
  defineFeatures,
  entityKey,
  InvalidDefinitionError,
  toEntityKey,
  tumbling,
} from '../src/index.js'

const define = (spec: Record<string, unknown>) =>
  defineFeatures<{ u: string; t: number }>({
    entity: (e) => e.u,
    eventTime: (e) => e.t,
    features: { n: { window: tumbling('1h'), aggregate: count(), ...spec } },
  })

describe('feature metadata: ttl, description, owner, tags', () => {
  it('carries ttl (as ms), description, owner and tags into FeatureInfo', () => {
    const g = define({ ttl: '1h30m', description: 'clicks per hour', owner: 'growth', tags: ['web', 'pii'] })
    expect(g.describe()).toEqual([
      {
        name: 'n',
        valueType: 'int64',
        window: tumbling('1h'),
        aggregate: 'count',
        emit: 'value',
        ttlMs: 5_400_000,
        description: 'clicks per hour',
        owner: 'growth',
        tags: ['web', 'pii'],
      },
    ])
    expect(define({ ttl: 60_000 }).describe()[0]?.ttlMs).toBe(60_000)
  })

  it('leaves absent fields absent', () => {
    const info = define({}).describe()[0] as object
    expect(Object.keys(info).sort()).toEqual(['aggregate', 'emit', 'name', 'valueType', 'window'])
  })

  it('describe() returns copies: mutating its tags does not change the definition', () => {
    const g = define({ tags: ['a'] })
    g.describe()[0]?.tags?.push('b')
    expect(g.describe()[0]?.tags).toEqual(['a'])
  })

  it.each([
    [{ ttl: 0 }, /ttl must be longer than 0/],
    [{ ttl: -5 }, /ttl must be a finite number of ms/],
    [{ ttl: '1 hour' }, /not a duration.*ttl: '1h'/],
    [{ ttl: Number.POSITIVE_INFINITY }, /finite/],
    [{ description: 5 }, /description must be a string/],
    [{ owner: {} }, /owner must be a string/],
    [{ tags: 'fraud' }, /tags must be an array of non-empty strings/],
    [{ tags: ['ok', ''] }, /tags must be an array/],
  ])('refuses %o at definition time', (spec, message) => {
    expect(() => define(spec)).toThrow(InvalidDefinitionError)
    expect(() => define(spec)).toThrow(message)
  })
})

describe('entityKey: one rule for the write and the read path', () => {
  it('keys strings as is and numbers and bigints by String()', () => {
    expect(entityKey('007')).toBe('007')
    expect(entityKey(42)).toBe('42')
    expect(entityKey(42n)).toBe('42')
    expect(entityKey(-1.5)).toBe('-1.5')
  })

  it.each([[''], [null], [undefined], [Number.NaN], [Number.POSITIVE_INFINITY], [true], [{}], [['a']]])(
    'refuses %o',
    (raw) => {
      expect(entityKey(raw)).toBeUndefined()
      expect(() => toEntityKey(raw, 'test')).toThrow(/test: entity key must be a non-empty string/)
    },
  )
})
