// Store options are checked at creation, before any client is made (no redis-server needed).
import { InvalidDefinitionError } from '@skewless/core'
import { type RedisLike, redisStore } from '@skewless/online-redis'
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
  // [what, expirySlackMs, the error message it must match, or null when it is accepted]
  const cases: [string, unknown, RegExp | null][] = [
    ['negative', -1, /expirySlackMs must be a finite number of ms >= 0, got -1/],
    ['NaN', Number.NaN, /expirySlackMs .*got NaN/],
    ['Infinity', Infinity, /expirySlackMs must be a finite .*got Infinity.*ttlMs: Infinity/],
    ['-Infinity', -Infinity, /expirySlackMs .*got -Infinity/],
    ['a string', '60000', /expirySlackMs .*got string "60000"/],
    ['0', 0, null],
    ['a fraction', 10.5, null],
    ['unset (60_000)', undefined, null],
  ]

  it.each(cases)('expirySlackMs %s', (_, expirySlackMs, error) => {
    const create = () => redisStore({ client, expirySlackMs: expirySlackMs as number })
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
