// Store options are checked at creation, before any client is made (no redis-server needed).
import { InvalidDefinitionError } from '@skewless/core'
import { type RedisLike, type RedisStoreOptions, redisStore } from '@skewless/online-redis'
import { describe, expect, it } from 'vitest'

const unused = (): never => {
  throw new Error('the store must not call the client here')
}
/** A client the store never calls: creating a store is lazy. */
const client: RedisLike = {
  evalsha: unused,
  eval: unused,
  pipeline: unused,
  quit: unused,
  disconnect: unused,
}

describe('redisStore options', () => {
  // [what, the options, the error message it must match, or null when they are accepted]
  const cases: [string, Partial<RedisStoreOptions>, RegExp | null][] = [
    ['expirySlackMs negative', { expirySlackMs: -1 }, /expirySlackMs must be a number of ms >= 0, got -1/],
    ['expirySlackMs NaN', { expirySlackMs: Number.NaN }, /expirySlackMs .*got NaN/],
    [
      'expirySlackMs Infinity',
      { expirySlackMs: Infinity },
      /expirySlackMs must be a finite .*got Infinity.*ttlMs: Infinity/,
    ],
    ['expirySlackMs -Infinity', { expirySlackMs: -Infinity }, /expirySlackMs .*got -Infinity/],
    [
      'expirySlackMs a string',
      { expirySlackMs: '60000' as unknown as number },
      /expirySlackMs .*got string "60000"/,
    ],
    ['expirySlackMs 0', { expirySlackMs: 0 }, null],
    ['expirySlackMs a fraction', { expirySlackMs: 10.5 }, null],
    ['expirySlackMs unset (60_000)', {}, null],
    ['prefix with a brace', { prefix: 'app{x}:' }, /prefix 'app\{x\}:' contains a brace; remove it/],
    ['prefix not a string', { prefix: 7 as unknown as string }, /prefix must be a string, got number 7/],
    ['prefix empty', { prefix: '' }, null],
  ]

  it.each(cases)('%s', (_, options, error) => {
    const create = () => redisStore({ client, ...options })
    if (error === null) {
      expect(create().name).toBe('redis')
      return
    }
    let thrown: unknown
    try {
      create()
    } catch (e) {
      thrown = e
    }
    expect(thrown, 'accepted silently').toBeInstanceOf(InvalidDefinitionError)
    expect((thrown as Error).message).toMatch(error)
  })
})
