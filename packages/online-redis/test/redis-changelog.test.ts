// The Redis changelog beyond the conformance suite: its options, the stream layout (one entry per
// call, several past CHANGELOG_CHUNK writes), a non-ASCII prefix, foreign data in the stream key.
import { type RedisServerHandle, startRedis } from '@skewless/adapter-tests'
import { type FeatureUpdate, hopping, InvalidArgumentError, InvalidDefinitionError } from '@skewless/core'
import {
  ChangelogFormatError,
  type RedisLike,
  RedisPermissionError,
  redisStore,
} from '@skewless/online-redis'
import { type OnlineFeatureConfig, StoreWriteError } from '@skewless/online-sink'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nextId } from '../src/changelog-codec.js'
import { CHANGELOG_CHUNK } from '../src/script.js'
import { userArgs, WRITER_COMMANDS } from './acl.js'

const score: OnlineFeatureConfig = { name: 'score', valueType: 'double', strategy: 'cas' }
const clicks: OnlineFeatureConfig = {
  name: 'clicks',
  valueType: 'int64',
  strategy: 'additive',
  window: hopping(300, 100),
}
const fm = new Map([
  [score.name, score],
  [clicks.name, clicks],
])
const up = (
  entity: string,
  feature: string,
  value: number,
  eventTime: number,
  tileStart?: number,
): FeatureUpdate =>
  tileStart === undefined
    ? { entity, feature, value, eventTime, version: 0 }
    : { entity, feature, value, eventTime, version: 0, tileStart }

describe('redisStore changelog option', () => {
  const never = (): never => {
    throw new Error('not called')
  }
  const fake: RedisLike = { evalsha: never, eval: never, pipeline: never, quit: never, disconnect: never }

  it('is refused on a Cluster without buckets, given as nodes or as a client; accepted with buckets', () => {
    expect(() => redisStore({ cluster: [{ host: '127.0.0.1', port: 1 }], changelog: true })).toThrow(
      /a changelog on a Redis Cluster needs buckets > 0/,
    )
    expect(() => redisStore({ client: { ...fake, isCluster: true }, changelog: true })).toThrow(
      InvalidDefinitionError,
    )
    const xfake = { ...fake, isCluster: true, xrange: never, xtrim: never }
    const s = redisStore({ client: xfake, changelog: { name: 'p-3' }, buckets: 4, prefix: 'x:' })
    expect(s.capabilities.changelog).toBe(true)
    expect(s.changelogKeys).toEqual([0, 1, 2, 3].map((b) => `x:{b${b}}changelog:p-3`))
    expect(s.changelogKey).toBeUndefined()
  })

  it('a changelog name is 1-64 of A-Z a-z 0-9 _ . -; buckets a whole number in [0, 16384]', () => {
    const xfake = { ...fake, xrange: never, xtrim: never }
    expect(redisStore({ client: xfake, changelog: { name: 'part_7.a-b' } }).changelogKey).toBe(
      'sk:changelog:part_7.a-b',
    )
    for (const name of ['', 'a}b', '{x}', 'a:b', 'a b', 'x'.repeat(65), 7, undefined]) {
      expect(() => redisStore({ client: xfake, changelog: { name } as unknown as { name: string } })).toThrow(
        /changelog must be true, false or \{ name \}/,
      )
    }
    for (const buckets of [-1, 1.5, 16385, Number.NaN, '4']) {
      expect(() => redisStore({ client: xfake, buckets: buckets as number })).toThrow(
        /buckets must be a (finite )?whole number >= 0 and at most 16384, got/,
      )
    }
  })

  it('must be a boolean, and needs a client with xrange and xtrim', () => {
    expect(() => redisStore({ client: fake, changelog: 'yes' as unknown as boolean })).toThrow(
      /changelog must be true, false or \{ name \}.*got string "yes"/,
    )
    expect(() => redisStore({ client: fake, changelog: true })).toThrow(
      /needs a client with xrange and xtrim/,
    )
    expect(redisStore({ client: fake }).capabilities.changelog).toBe(false)
    expect(redisStore({ client: fake }).readChangelog).toBeUndefined()
  })

  it('trims exactly: the id after the largest sequence of a ms is the next ms', () => {
    expect(nextId('5-0')).toBe('5-1')
    expect(nextId('5-18446744073709551615')).toBe('6-0')
    expect(nextId('99999999999999-7')).toBe('99999999999999-8')
  })
})

describe('redis changelog stream', () => {
  let server: RedisServerHandle
  let raw: Redis
  beforeAll(async () => {
    server = await startRedis({ useEnv: false })
    raw = new Redis(server.url)
  })
  afterAll(async () => {
    raw?.disconnect()
    await server?.stop()
  })

  it('one entry per call under <prefix>changelog, several past CHANGELOG_CHUNK writes, each write once', async () => {
    const store = redisStore({ url: server.url, changelog: true, prefix: 'chunk:' })
    try {
      expect(store.changelogKey).toBe('chunk:changelog')
      const n = CHANGELOG_CHUNK * 2 + 7
      const writes = Array.from({ length: n }, (_, i) =>
        i % 2 === 0 ? up(`e${i}`, 'score', i, 1000 + i) : up(`e${i}`, 'clicks', i, 1000, 0),
      )
      const r = await store.apply(writes, fm)
      expect(r.outcomes.every((o) => o === 'applied')).toBe(true)
      expect(await raw.xlen('chunk:changelog')).toBe(3)
      const page = await store.readChangelog?.(undefined, { limit: 1 })
      expect(page?.writes.length).toBe(CHANGELOG_CHUNK) // a page ends on an entry
      const all = await store.readChangelog?.(undefined, { limit: n })
      // A page that ends on the last entry may not know it is the end: the next read says so.
      expect(await store.readChangelog?.(all?.position, { limit: 1 })).toEqual({
        writes: [],
        position: all?.position,
        end: true,
      })
      expect(all?.writes.map((w) => w.entity).sort()).toEqual(writes.map((w) => w.entity).sort())
      // The entity keys are untouched by the stream (no key named like it is an entity's).
      expect(await raw.type('chunk:changelog')).toBe('stream')
      expect(await raw.type('chunk:{changelog}')).toBe('none')
    } finally {
      await store.close()
    }
  })

  it('cuts entities out of keys by the prefix length in bytes (a non-ASCII prefix)', async () => {
    const store = redisStore({ url: server.url, changelog: true, prefix: 'pré🌍:' })
    try {
      await store.apply([up('é}{x', 'score', 1, 5), up('🌍', 'clicks', 2, 5, 0)], fm)
      const page = await store.readChangelog?.(undefined, { limit: 10 })
      expect(page?.writes.map((w) => [w.entity, w.feature, w.tileStart])).toEqual([
        ['é}{x', 'score', undefined],
        ['🌍', 'clicks', 0],
      ])
    } finally {
      await store.close()
    }
  })

  it('a stream key holding another type fails the whole call before any write lands', async () => {
    const store = redisStore({ url: server.url, changelog: true, prefix: 'foreign:' })
    try {
      await raw.set('foreign:changelog', 'not a stream')
      await expect(store.apply([up('a', 'score', 1, 5)], fm)).rejects.toBeInstanceOf(StoreWriteError)
      expect(await raw.exists('foreign:{a}')).toBe(0)
      // Without the changelog the same store still writes.
      expect((await store.apply([up('a', 'score', 1, 5)], fm, { changelog: false })).outcomes).toEqual([
        'applied',
      ])
    } finally {
      await store.close()
    }
  })

  it('an entry not written by the store stops the read with ChangelogFormatError; bad positions are refused', async () => {
    const store = redisStore({ url: server.url, changelog: true, prefix: 'alien:' })
    try {
      await store.apply([up('a', 'score', 1, 5)], fm)
      const first = await store.readChangelog?.(undefined, { limit: 10 })
      await raw.xadd('alien:changelog', '*', 'hello', 'world')
      await expect(store.readChangelog?.(first?.position, { limit: 10 })).rejects.toBeInstanceOf(
        ChangelogFormatError,
      )
      await expect(store.readChangelog?.(7, { limit: 10 })).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(store.readChangelog?.(undefined, { limit: 0 })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
      await expect(store.trimChangelog?.('x-1')).rejects.toBeInstanceOf(InvalidArgumentError)
    } finally {
      await store.close()
    }
  })
})

describe('redis changelog and ACLs', () => {
  let server: RedisServerHandle
  let raw: Redis
  beforeAll(async () => {
    // A writer without the changelog's commands, and one with TYPE but without XADD.
    const rules = [
      `user notype on >pw1 resetkeys ~sk:* resetchannels ${WRITER_COMMANDS}`,
      `user noxadd on >pw2 resetkeys ~sk:* resetchannels ${WRITER_COMMANDS} +type`,
      `user nopexpire on >pw3 resetkeys ~sk:* resetchannels ${WRITER_COMMANDS} +type +xadd -pexpire`,
    ]
    server = await startRedis({ useEnv: false, args: userArgs(rules) })
    raw = new Redis(server.url)
  })
  afterAll(async () => {
    raw?.disconnect()
    await server?.stop()
  })

  it.each([
    // Redis < 7.2 does not name the command a script was refused.
    ['notype:pw1', /^(\+type|a command the apply script calls)$/],
    ['noxadd:pw2', /^\+xadd$/],
  ])('a writer (%s) lacking a changelog command is refused before any write lands', async (auth, missing) => {
    const url = server.url.replace('redis://', `redis://${auth}@`)
    const store = redisStore({ url, changelog: true, clientOptions: { maxRetriesPerRequest: 0 } })
    try {
      const err = await store.apply([up('acl', 'score', 1, 5)], fm).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(RedisPermissionError)
      expect((err as RedisPermissionError).permission).toMatch(missing)
      expect(await raw.exists('sk:{acl}')).toBe(0)
    } finally {
      await store.close()
    }
  })

  it('a call that fails after its writes landed (PEXPIRE refused) has logged them all the same', async () => {
    const url = server.url.replace('redis://', 'redis://nopexpire:pw3@')
    const store = redisStore({ url, changelog: true, clientOptions: { maxRetriesPerRequest: 0 } })
    const ttl: OnlineFeatureConfig = { name: 'ttl', valueType: 'double', strategy: 'cas', ttlMs: 60_000 }
    try {
      const err = await store
        .apply([up('exp', 'ttl', 1, 5)], new Map([[ttl.name, ttl]]))
        .catch((e: unknown) => e)
      expect(err).toBeInstanceOf(RedisPermissionError)
      expect(await raw.hget('sk:{exp}', 'ttl')).toBe('5,0,d1') // landed
      const entries = await raw.xrange('sk:changelog', '-', '+')
      expect(entries.flatMap(([, fields]) => fields)).toEqual(['ttl', 'v1', 'exp', '5,0,d1'])
    } finally {
      await store.close()
    }
  })
})
