// The duration rule (docs/decisions/lifecycle.md): every option that is a length of time takes a
// `Duration` under its plain name ('250ms', '2s' or a number of ms); the older `*Ms` name still works
// (deprecated); both at once, or a text that is no duration, is an InvalidDefinitionError naming them.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  collectingSink,
  count,
  createPipeline,
  defineFeatures,
  InvalidDefinitionError,
  unbounded,
} from '@skewless/core'
import { durationOption } from '@skewless/core/internal'
import { memoryLog } from '@skewless/offline-log'
import { parquetLog } from '@skewless/offline-parquet'
import { redisStore } from '@skewless/online-redis'
import { changelogCommitter, memoryStore, onlineFeatures, onlineSink } from '@skewless/online-sink'
import { natsSource } from '@skewless/source-nats'
import { afterAll, describe, expect, it } from 'vitest'

const features = defineFeatures({
  entity: (e: { k: string; t: number }) => e.k,
  eventTime: (e) => e.t,
  features: { n: { window: unbounded(), aggregate: count() } },
})

const ONLINE = [{ name: 'n', valueType: 'int64' as const, strategy: 'cas' as const }]
const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

/** Each option with a `Duration` form: make the component with `options`, or throw. */
const cases: { who: string; name: string; legacy: string; make: (o: Record<string, unknown>) => unknown }[] =
  [
    {
      who: 'createPipeline',
      name: 'linger',
      legacy: 'lingerMs',
      make: (o) => createPipeline({ source: [], features, sink: collectingSink(), logger: false, ...o }),
    },
    {
      who: 'createPipeline',
      name: 'tickInterval',
      legacy: 'tickIntervalMs',
      make: (o) => createPipeline({ source: [], features, sink: collectingSink(), logger: false, ...o }),
    },
    ...(['linger', 'timeout'] as const).map((name) => ({
      who: 'onlineSink',
      name,
      legacy: `${name}Ms`,
      make: (o: Record<string, unknown>) =>
        onlineSink({ store: memoryStore(), features: ONLINE, logger: false, ...o }),
    })),
    ...(['minDelay', 'maxDelay'] as const).map((name) => ({
      who: 'onlineSink',
      name: `retry.${name}`,
      legacy: `retry.${name}Ms`,
      make: (o: Record<string, unknown>) =>
        onlineSink({
          store: memoryStore(),
          features: ONLINE,
          logger: false,
          retry: Object.fromEntries(Object.entries(o).map(([k, v]) => [k.slice('retry.'.length), v])),
        }),
    })),
    { who: 'memoryStore', name: 'latency', legacy: 'latencyMs', make: (o) => memoryStore(o) },
    {
      who: 'changelogCommitter',
      name: 'interval',
      legacy: 'intervalMs',
      make: (o) =>
        changelogCommitter({
          store: memoryStore({ changelog: true }),
          log: memoryLog({ features: {} }),
          ...o,
        }),
    },
    { who: 'online-redis', name: 'expirySlack', legacy: 'expirySlackMs', make: (o) => redisStore(o) },
    ...(['maxWait', 'maxReconnectTime', 'reconnectWait'] as const).map((name) => ({
      who: 'source-nats',
      name,
      legacy: `${name}Ms`,
      make: (o: Record<string, unknown>) =>
        natsSource({ stream: 'clicks', servers: 'nats://127.0.0.1:1', ...o }),
    })),
  ]

describe('options take a Duration; the *Ms form stays, deprecated', () => {
  it.each(cases)('$who: $name', ({ name, legacy, make }) => {
    const as = (k: string, v: unknown) => ({ [k]: v })
    expect(() => make(as(name, '2s'))).not.toThrow()
    expect(() => make(as(name, 2000))).not.toThrow()
    expect(() => make(as(legacy, 2000))).not.toThrow()
    // A text that is no duration names the option.
    expect(() => make(as(name, 'soon'))).toThrow(InvalidDefinitionError)
    expect(() => make(as(name, 'soon'))).toThrow(name.replace('retry.', ''))
    // Both forms at once: which one was meant is unknown.
    const both = () => make({ [name]: '1s', [legacy]: 1000 })
    expect(both).toThrow(InvalidDefinitionError)
    expect(both).toThrow(/not both/)
  })

  it('range checks keep naming the form the caller used', () => {
    expect(() => onlineSink({ store: memoryStore(), features: ONLINE, lingerMs: -1 })).toThrow(
      /lingerMs must be/,
    )
    expect(() => onlineSink({ store: memoryStore(), features: ONLINE, linger: -1 })).toThrow(/linger must be/)
    expect(() => memoryStore({ latency: '30d' })).toThrow(/latency must be .* at most 2147483647/)
  })

  it('a string is read as the same ms: latency "60ms" delays a read as latencyMs 60 does', async () => {
    for (const store of [memoryStore({ latency: '60ms' }), memoryStore({ latencyMs: 60 })]) {
      const t = performance.now()
      await store.read(['a'], [])
      expect(performance.now() - t).toBeGreaterThanOrEqual(55)
    }
    expect(durationOption('x', 'linger', '1m30s', 'lingerMs', undefined)).toEqual({
      ms: 90_000,
      name: 'linger',
    })
    expect(durationOption('x', 'linger', undefined, 'lingerMs', 7)).toEqual({ ms: 7, name: 'lingerMs' })
    expect(durationOption('x', 'linger', undefined, 'lingerMs', undefined)).toEqual({
      ms: undefined,
      name: 'lingerMs',
    })
  })

  it("onlineFeatures' overrides: ttl takes a Duration and sets the config's ttlMs", () => {
    const infos = features.describe()
    expect(onlineFeatures(infos, { n: { ttl: '1h' } })[0]?.ttlMs).toBe(3_600_000)
    expect(onlineFeatures(infos, { n: { ttlMs: 5000 } })[0]?.ttlMs).toBe(5000)
    expect(onlineFeatures(infos)[0]?.ttlMs).toBeUndefined()
    expect(() => onlineFeatures(infos, { n: { ttl: '1h', ttlMs: 1 } })).toThrow(/not both/)
    expect(() => onlineFeatures(infos, { n: { ttl: 'an hour' } })).toThrow(InvalidDefinitionError)
  })

  it('the Parquet log: rollAge and lockLease', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skewless-durations-'))
    dirs.push(dir)
    const log = await parquetLog({ dir, features: { x: 'double' }, rollAge: '5ms', lockLease: '20s' })
    await log.close()
    await expect(parquetLog({ dir, features: { x: 'double' }, rollAge: 'later' })).rejects.toThrow(/rollAge/)
    await expect(
      parquetLog({ dir, features: { x: 'double' }, lockLease: '1s', lockLeaseMs: 1000 }),
    ).rejects.toThrow(/not both/)
  })
})
