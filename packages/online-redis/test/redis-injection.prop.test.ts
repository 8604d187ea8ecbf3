// Injection: entity ids, feature names and values reach the apply script only as KEYS / ARGV. Hostile
// strings (quotes, Lua syntax, newlines, NUL, 1 MB) are written and read back exactly, the key space
// outside the prefix is untouched, and the server only ever caches the one script (a script text
// built from data would add one per distinct input).
import { readFileSync } from 'node:fs'
import { type RedisServerHandle, startRedis } from '@skewless/adapter-tests'
import type { FeatureUpdate } from '@skewless/core'
import { redisStore } from '@skewless/online-redis'
import type { OnlineFeatureConfig } from '@skewless/online-sink'
import fc from 'fast-check'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const T = Date.UTC(2026, 10, 1)
const HOSTILE = [
  "'",
  '"',
  "]] redis.call('FLUSHALL') --",
  "')); redis.call('SET','pwned','1') --[[",
  '\n',
  '\r\nFLUSHALL\r\n',
  '\u0000',
  'a\u0000b',
  '{',
  '}',
  '{x}',
  ':t:',
  ',',
  '%s%d',
  '\\',
  '..',
  '*',
  '$-1',
  'KEYS[1]',
  'ARGV[2]',
  '😀',
  '\u202e',
  ' ',
]
const hostile = fc.oneof(
  fc.constantFrom(...HOSTILE),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
  fc
    .tuple(
      fc.constantFrom(...HOSTILE),
      fc.string({ unit: 'binary', maxLength: 6 }),
      fc.constantFrom(...HOSTILE),
    )
    .map(([a, b, c]) => a + b + c),
)

describe('hostile strings reach Lua only as data', () => {
  it('the script text is a constant: its template interpolates only the numeric CHANGELOG_CHUNK', () => {
    const src = readFileSync(new URL('../src/script.ts', import.meta.url), 'utf8')
    const start = src.indexOf('export const APPLY_SCRIPT = `')
    const end = src.indexOf('\n`', start)
    expect(start).toBeGreaterThan(-1)
    const interpolations = new Set(src.slice(start, end).match(/\$\{[^}]*\}/g) ?? [])
    expect([...interpolations]).toEqual(['$' + '{CHANGELOG_CHUNK}'])
  })

  let server: RedisServerHandle
  let admin: Redis
  beforeAll(async () => {
    server = await startRedis({ useEnv: false })
    admin = new Redis(server.url)
  })
  afterAll(async () => {
    admin?.disconnect()
    await server?.stop()
  })

  it('entities, feature names and values round-trip exactly; nothing outside sk: changes; one cached script', async () => {
    await admin.flushall()
    await admin.script('FLUSH')
    await admin.set('sentinel', 'untouched')
    await admin.hset('other:{e}', 'f', 'kept')
    const store = redisStore({ url: server.url })
    let version = 0
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(hostile, { minLength: 1, maxLength: 4 }),
        fc.uniqueArray(hostile, { minLength: 1, maxLength: 4 }),
        fc.array(fc.oneof(hostile, fc.string({ unit: 'binary', maxLength: 200 })), {
          minLength: 1,
          maxLength: 16,
        }),
        fc.constantFrom<'cas' | 'upsert'>('cas', 'upsert'),
        async (entities, names, values, strategy) => {
          const features: OnlineFeatureConfig[] = names.map((name) => ({
            name,
            valueType: 'string',
            strategy,
          }))
          const fm = new Map(features.map((f) => [f.name, f]))
          version++
          const writes: FeatureUpdate[] = []
          const want = new Map<string, string>()
          let v = 0
          for (const entity of entities) {
            for (const name of names) {
              const value = values[v++ % values.length] as string
              writes.push({ entity, feature: name, value, eventTime: T, version })
              want.set(`${entity}\u0001${name}`, value)
            }
          }
          const res = await store.apply(writes, fm)
          expect(res.outcomes.every((o) => o === 'applied')).toBe(true)
          const rows = await store.read(entities, features)
          for (let i = 0; i < entities.length; i++) {
            for (let j = 0; j < features.length; j++) {
              const entry = rows[i]?.[j]
              expect(entry?.kind).toBe('value')
              const got = entry?.kind === 'value' ? entry.stored.value : undefined
              expect(got).toBe(want.get(`${entities[i]}\u0001${names[j]}`))
            }
          }
        },
      ),
      { numRuns: 60 },
    )
    // A 1 MB value with every hostile fragment, NUL and newlines in it.
    const big = `${HOSTILE.join('')}${'x\u0000\n]]'.repeat(262_144)}`
    const f: OnlineFeatureConfig = {
      name: "]] redis.call('FLUSHALL') --",
      valueType: 'string',
      strategy: 'cas',
    }
    const r = await store.apply(
      [{ entity: "'\n\u0000", feature: f.name, value: big, eventTime: T, version: version + 1 }],
      new Map([[f.name, f]]),
    )
    expect(r.outcomes).toEqual(['applied'])
    const [[entry]] = (await store.read(["'\n\u0000"], [f])) as [
      [{ kind: string; stored: { value: string } }],
    ]
    expect(entry.stored.value === big).toBe(true)
    await store.close()

    expect(await admin.get('sentinel')).toBe('untouched')
    expect(await admin.hgetall('other:{e}')).toEqual({ f: 'kept' })
    const keys: string[] = []
    let cursor = '0'
    do {
      const [next, batch] = await admin.scanBuffer(cursor, 'COUNT', 1000)
      cursor = String(next)
      for (const k of batch) keys.push(k.toString('utf8'))
    } while (cursor !== '0')
    const created = keys.filter((k) => k !== 'sentinel' && k !== 'other:{e}')
    expect(created.length).toBeGreaterThan(0)
    expect(created.filter((k) => !k.startsWith('sk:{'))).toEqual([])
    const info = await admin.info('memory')
    expect(info).toMatch(/number_of_cached_scripts:1\r\n/)
  })
})
