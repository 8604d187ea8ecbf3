// Key layouts (entity tag, bucketed) and named changelogs: keys never collide whatever the entity
// or feature name, a bucket's keys and changelog share a slot, and pipelines with their own named
// changelog on one Redis each read only their own writes.
import { type RedisServerHandle, startRedis } from '@skewless/adapter-tests'
import { type FeatureUpdate, InvalidDefinitionError } from '@skewless/core'
import { type RedisLike, type RedisStore, redisStore } from '@skewless/online-redis'
import type { OnlineFeatureConfig } from '@skewless/online-sink'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { crc16, keySlot } from '../src/slot.js'

const never = (): never => {
  throw new Error('not called')
}
const fake: RedisLike = { evalsha: never, eval: never, pipeline: never, quit: never, disconnect: never }

const score: OnlineFeatureConfig = { name: 'score', valueType: 'double', strategy: 'cas' }
const clicks: OnlineFeatureConfig = {
  name: 'clicks',
  valueType: 'int64',
  strategy: 'additive',
  window: { kind: 'hopping', sizeMs: 300, hopMs: 100 },
}
const fm = new Map([
  [score.name, score],
  [clicks.name, clicks],
])

describe('bucketed key layout', () => {
  it('names keys <prefix>{b<k>}v:<entity> and <prefix>{b<k>}t<n>:<feature>:<entity>, k = CRC16(entity) mod N', () => {
    const s = redisStore({ client: fake, buckets: 5, prefix: 'p:' })
    for (const e of ['a', 'user-42', 'é🌍', '{x}', 'a}b']) {
      const k = crc16(e) % 5
      expect(s.bucketOf(e)).toBe(k)
      expect(s.valueKey(e)).toBe(`p:{b${k}}v:${e}`)
      expect(s.tileKey(e, 'clicks:5m')).toBe(`p:{b${k}}t9:clicks:5m:${e}`)
      expect(s.tileKey(e, 'é')).toBe(`p:{b${k}}t2:é:${e}`)
    }
    expect(crc16('123456789')).toBe(0x31c3) // CRC16/XMODEM check value: the Cluster's own hash
    expect(redisStore({ client: fake }).valueKey('a')).toBe('sk:{a}')
  })

  it('no two keys collide, whatever braces, colons or digits entities and feature names hold', () => {
    const entities = [
      '',
      'a',
      ':a',
      'a:',
      '3:a',
      't1:a',
      'v:a',
      '{b0}v:a',
      '}',
      '{',
      'changelog',
      'b:c',
      'x:b:c',
    ]
    const featureNames = ['a', 'a:b', 'b', 'b:c', '1', 'v', 'ab']
    for (const buckets of [1, 3]) {
      const s = redisStore({
        client: { ...fake, xrange: never, xtrim: never },
        buckets,
        changelog: { name: 'n' },
      })
      const seen = new Map<string, string>()
      const add = (k: string, what: string) => {
        expect(seen.get(k), `${what} collides with ${seen.get(k)}`).toBeUndefined()
        seen.set(k, what)
      }
      for (const k of s.changelogKeys ?? []) add(k, `changelog ${k}`)
      for (const e of entities) {
        add(s.valueKey(e), `value ${e}`)
        for (const f of featureNames) add(s.tileKey(e, f), `tile ${e}/${f}`)
      }
    }
  })

  it("a bucket's keys and its changelog stream share one hash slot", () => {
    const s = redisStore({ client: { ...fake, xrange: never, xtrim: never }, buckets: 16, changelog: true })
    for (const e of ['user-1', 'ünïcødé-😀', 'a}b', '{x}', 'plain']) {
      const slot = keySlot(s.valueKey(e))
      expect(keySlot(s.tileKey(e, 'clicks'))).toBe(slot)
      expect(keySlot(s.changelogKeys?.[s.bucketOf(e)] as string)).toBe(slot)
    }
  })
})

describe('named changelogs on one Redis', () => {
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

  const up = (entity: string, feature: string, value: number, tileStart?: number): FeatureUpdate =>
    tileStart === undefined
      ? { entity, feature, value, eventTime: 1000 + value, version: 0 }
      : { entity, feature, value, eventTime: 1000 + value, version: 0, tileStart }

  async function readAll(store: RedisStore) {
    const page = await store.readChangelog?.(undefined, { limit: 10_000 })
    expect(page?.end).toBe(true)
    return page
  }

  it.each([0, 4])(
    'with buckets: %i, two pipelines each read only their own writes; trims are separate',
    async (buckets) => {
      const prefix = `named${buckets}:`
      const mk = (changelog: boolean | { name: string }) =>
        redisStore({ url: server.url, prefix, buckets, changelog })
      const [p0, p1, unnamed] = [mk({ name: 'p0' }), mk({ name: 'p1' }), mk(true)]
      try {
        const w0 = Array.from({ length: 20 }, (_, i) =>
          i % 2 ? up(`e${i}`, 'score', i) : up(`e${i}`, 'clicks', i, 0),
        )
        const w1 = Array.from({ length: 20 }, (_, i) => up(`f${i}`, 'score', i))
        expect((await p0.apply(w0, fm)).outcomes.every((o) => o === 'applied')).toBe(true)
        expect((await p1.apply(w1, fm)).outcomes.every((o) => o === 'applied')).toBe(true)
        const r0 = await readAll(p0)
        const r1 = await readAll(p1)
        expect(r0?.writes.map((w) => w.entity).sort()).toEqual(w0.map((w) => w.entity).sort())
        expect(r1?.writes.map((w) => w.entity).sort()).toEqual(w1.map((w) => w.entity).sort())
        expect((await readAll(unnamed))?.writes).toEqual([])
        // Each store reads the other's data: one key space, separate changelogs.
        expect((await p1.read(['e1'], [score]))[0]?.[0]).toEqual({
          kind: 'value',
          stored: { value: 1, eventTime: 1001, version: 0 },
        })
        await p0.trimChangelog?.(r0?.position as NonNullable<typeof r0>['position'] & {})
        expect((await readAll(p0))?.writes).toEqual([])
        expect((await readAll(p1))?.writes.length).toBe(20)
        const streams = (await raw.keys(`${prefix}*changelog*`)).sort()
        for (const k of streams)
          expect(k).toMatch(buckets ? /^named4:\{b\d\}changelog:p[01]$/ : /^named0:changelog:p[01]$/)
      } finally {
        await Promise.all([p0.close(), p1.close(), unnamed.close()])
      }
    },
  )

  it('a bucketed position is one stream id per bucket; one of another bucket count is refused', async () => {
    const s = redisStore({ url: server.url, prefix: 'pos:', buckets: 3, changelog: true })
    try {
      await s.apply([up('a', 'score', 1), up('b', 'score', 2), up('c', 'score', 3)], fm)
      const page = await readAll(s)
      expect(Array.isArray(page?.position) && page.position.length).toBe(3)
      await expect(s.readChangelog?.(['0-0', '0-0'], { limit: 1 })).rejects.toThrow(
        /an array of 3 stream ids/,
      )
      await expect(s.trimChangelog?.('1-0')).rejects.toThrow(/an array of 3 stream ids/)
    } finally {
      await s.close()
    }
  })
})

describe('feature names in key names', () => {
  it('an additive feature whose name holds a brace is refused (its tile hash could be another entity’s value hash)', async () => {
    const s = redisStore({ client: fake })
    // The collision the check prevents: the same key for two different hashes.
    expect(s.tileKey('e', 'f}')).toBe(s.valueKey('e}:t:f'))
    for (const name of ['f}', '{f', 'a{b}']) {
      const bad: OnlineFeatureConfig = { ...clicks, name }
      const w = { entity: 'e', feature: name, value: 1, eventTime: 1, version: 0, tileStart: 0 }
      await expect(s.apply([w], new Map([[name, bad]]))).rejects.toThrow(InvalidDefinitionError)
      await expect(s.read(['e'], [bad])).rejects.toThrow(/feature name '.*' contains a brace/)
    }
    // A value feature's name is a hash field, not part of a key: any name is fine there.
    expect(redisStore({ client: fake }).valueKey('x')).toBe('sk:{x}')
  })
})
