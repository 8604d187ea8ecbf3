// Least privilege on a real redis-server with the ACL users of docs/security.md: the writer and the
// reader work with exactly those rights; a writer for another prefix and the reader are refused
// with a typed error that names the missing permission.
import { readFileSync } from 'node:fs'
import { type RedisServerHandle, startRedis } from '@skewless/adapter-tests'
import { collectingSink } from '@skewless/core'
import { RedisPermissionError, redisStore } from '@skewless/online-redis'
import {
  type OnlineDeadLetter,
  type OnlineFeatureConfig,
  onlineReader,
  onlineSink,
} from '@skewless/online-sink'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readerAcl, userArgs, writerAcl } from './acl.js'

const T = Date.UTC(2026, 10, 1)
const score: OnlineFeatureConfig = { name: 'score', valueType: 'double', strategy: 'cas', ttlMs: 60_000 }
const label: OnlineFeatureConfig = { name: 'label', valueType: 'string', strategy: 'upsert' }
const clicks: OnlineFeatureConfig = {
  name: 'clicks',
  valueType: 'int64',
  strategy: 'additive',
  ttlMs: 60_000,
  window: { kind: 'hopping', sizeMs: 1000, hopMs: 500 },
}
const features = [score, label, clicks]
const fm = new Map(features.map((f) => [f.name, f]))
const url = (server: RedisServerHandle, user: string, pw: string) =>
  server.url.replace('redis://', `redis://${user}:${pw}@`)

describe('Redis ACL users of docs/security.md', () => {
  let server: RedisServerHandle
  let admin: Redis
  beforeAll(async () => {
    server = await startRedis({
      useEnv: false,
      args: userArgs([
        writerAcl('writer', 'writer-pw'),
        readerAcl('reader', 'reader-pw'),
        writerAcl('other-writer', 'other-pw', 'other:'),
        writerAcl('no-pexpire', 'np-pw').replace(' +pexpire', ''),
      ]),
    })
    admin = new Redis(server.url)
  })
  afterAll(async () => {
    admin?.disconnect()
    await server?.stop()
  })

  it('the writer writes values, TTLs and pruned tiles, survives a script-cache flush; the reader reads them', async () => {
    const store = redisStore({ url: url(server, 'writer', 'writer-pw') })
    const dead = collectingSink<OnlineDeadLetter>()
    const sink = onlineSink({ store, features, deadLetters: dead })
    const updates = []
    for (let i = 0; i < 20; i++) {
      updates.push({
        entity: 'u1',
        feature: 'clicks',
        value: 1,
        eventTime: T + i * 500,
        version: 0,
        tileStart: T + i * 500,
      })
    }
    await sink.write([
      { entity: 'u1', feature: 'score', value: 1.5, eventTime: T, version: 0 },
      { entity: 'u1', feature: 'label', value: 'a', eventTime: T, version: 0 },
      ...updates.slice(0, 3),
    ])
    await sink.flush()
    await sink.write(updates.slice(3))
    await sink.flush()
    await admin.script('FLUSH') // the next write takes the NOSCRIPT -> EVAL path
    await sink.write([{ entity: 'u1', feature: 'score', value: 2.5, eventTime: T + 1, version: 0 }])
    await sink.close()
    expect(dead.items).toEqual([])
    expect(await admin.pttl('sk:{u1}:t:clicks')).toBeGreaterThan(0) // PTTL/PEXPIRE ran
    expect(Number(await admin.hlen('sk:{u1}:t:clicks'))).toBeLessThan(20) // pruned: HLEN/HKEYS/HDEL ran

    const readerStore = redisStore({ url: url(server, 'reader', 'reader-pw') })
    const [vector] = await onlineReader({ store: readerStore, features, clock: { now: () => T + 10 } }).get(
      ['u1'],
      ['score', 'label'],
    )
    expect(vector?.values.score?.value).toBe(2.5)
    expect(vector?.values.label?.value).toBe('a')
    await readerStore.close()
    await store.close()
  })

  it('the reader cannot write: RedisPermissionError names +evalsha, the dead letters carry the NOPERM reply', async () => {
    const store = redisStore({ url: url(server, 'reader', 'reader-pw') })
    const write = { entity: 'u2', feature: 'score', value: 1, eventTime: T, version: 0 }
    const err = await store.apply([write], fm).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RedisPermissionError)
    expect((err as RedisPermissionError).code).toBe('permission-denied')
    expect((err as RedisPermissionError).permission).toBe('+evalsha')
    expect((err as Error).message).toMatch(/lacks \+evalsha .*NOPERM/)

    const dead = collectingSink<OnlineDeadLetter>()
    const sink = onlineSink({ store, features, deadLetters: dead })
    await sink.write([write])
    await sink.close()
    expect(dead.items).toHaveLength(1)
    expect(dead.items[0]?.code).toBe('script-error')
    expect(dead.items[0]?.message).toMatch(/NOPERM.*evalsha/)
    // Even a command that could write is refused on its keys (%R~): the server, not the client, decides.
    const raw = new Redis(url(server, 'reader', 'reader-pw'))
    await expect(raw.hset('sk:{u2}', 'score', 'x')).rejects.toThrow(/NOPERM/)
    raw.disconnect()
    expect(await admin.exists('sk:{u2}')).toBe(0)
    await store.close()
  })

  it('a writer restricted to another prefix is refused on its keys and writes nothing', async () => {
    const store = redisStore({ url: url(server, 'other-writer', 'other-pw') }) // prefix sk:, ACL other:*
    const err = await store
      .apply([{ entity: 'u3', feature: 'score', value: 1, eventTime: T, version: 0 }], fm)
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RedisPermissionError)
    expect((err as RedisPermissionError).permission).toBe('key access')
    expect((err as Error).message).toMatch(/lacks key access .*NOPERM/)
    await expect(store.read(['u3'], [score])).rejects.toThrow(RedisPermissionError)
    const dead = collectingSink<OnlineDeadLetter>()
    const sink = onlineSink({ store, features, deadLetters: dead })
    await sink.write([{ entity: 'u3', feature: 'score', value: 1, eventTime: T, version: 0 }])
    await sink.close()
    expect(dead.items.map((d) => [d.reason, d.message])).toEqual([
      ['script-error', expect.stringMatching(/lacks key access .*NOPERM/)],
    ])
    expect(await admin.exists('sk:{u3}')).toBe(0)
    await store.close()
    // The same user on its own prefix works: the refusal was the key pattern, nothing else.
    const own = redisStore({ url: url(server, 'other-writer', 'other-pw'), prefix: 'other:' })
    const r = await own.apply([{ entity: 'u3', feature: 'score', value: 1, eventTime: T, version: 0 }], fm)
    expect(r.outcomes).toEqual(['applied'])
    await own.close()
  })

  it('a writer without a command the script calls gets RedisPermissionError, not a generic script error', async () => {
    const store = redisStore({ url: url(server, 'no-pexpire', 'np-pw') })
    const err = await store
      .apply([{ entity: 'u4', feature: 'score', value: 1, eventTime: T, version: 0 }], fm)
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RedisPermissionError)
    expect((err as Error).message).toMatch(/lacks (\+pexpire|a command the apply script calls)/)
    await store.close()
  })

  it('the writer can do nothing else: no other keys, no FLUSHALL, no KEYS, no CONFIG', async () => {
    const raw = new Redis(url(server, 'writer', 'writer-pw'))
    await expect(raw.set('outside', 'x')).rejects.toThrow(/NOPERM/)
    await expect(raw.hset('other:{x}', 'f', 'v')).rejects.toThrow(/NOPERM/)
    await expect(raw.flushall()).rejects.toThrow(/NOPERM/)
    await expect(raw.keys('*')).rejects.toThrow(/NOPERM/)
    await expect(raw.config('GET', 'requirepass')).rejects.toThrow(/NOPERM/)
    // A script runs with the caller's rights: EVAL cannot reach a key or command the ACL denies.
    await expect(raw.eval("return redis.call('SET', KEYS[1], 'x')", 1, 'sk:{x}')).rejects.toThrow(
      /NOPERM|script can't/,
    )
    await expect(raw.eval("return redis.call('HSET', KEYS[1], 'f', 'x')", 1, 'outside')).rejects.toThrow(
      /NOPERM|script can't/,
    )
    raw.disconnect()
    expect(await admin.exists('outside', 'sk:{x}')).toBe(0)
  })

  it('docs/security.md quotes these ACL lines verbatim', () => {
    const doc = readFileSync(new URL('../../../docs/security.md', import.meta.url), 'utf8')
    expect(doc).toContain(writerAcl('skewless-writer', '<writer-password>'))
    expect(doc).toContain(readerAcl('skewless-reader', '<reader-password>'))
  })
})
