import { metricValue, pointsOf, type RedisServerHandle, startRedis, testMeter } from '@skewless/adapter-tests'
import { type OnlineFeatureConfig, onlineReader, onlineSink } from '@skewless/online-sink'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redisStore } from '../src/index.js'

let redis: RedisServerHandle
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis?.stop()
})

describe('redis store telemetry (OpenTelemetry SDK)', () => {
  it('times every call as db.client.operation.duration with db.system.name=redis, failures with error.type', async () => {
    const m = testMeter()
    const features: OnlineFeatureConfig[] = [{ name: 'score', valueType: 'double', strategy: 'cas' }]
    const store = redisStore({ url: redis.url, prefix: `tel${Date.now()}:`, meterProvider: m.provider })
    const sink = onlineSink({ store, features, maxBatchSize: 100, lingerMs: 0 })
    const t = Date.now()
    for (let i = 0; i < 5; i++) {
      await sink.write(
        Array.from({ length: 100 }, (_, k) => ({
          entity: `e${k}`,
          feature: 'score',
          value: i,
          eventTime: t + i,
          version: 0,
        })),
      )
      await sink.flush()
    }
    const reader = onlineReader({ store, features })
    const got = await reader.get(['e1', 'e2'], ['score'])
    expect(got[0]?.values.score?.value).toBe(4)
    // A call that fails: a client whose every command errors.
    const refuse = () => Promise.reject(Object.assign(new Error('ERR refused'), { name: 'ReplyError' }))
    const broken = redisStore({
      client: {
        evalsha: refuse,
        eval: refuse,
        pipeline: () => {
          throw new Error('ERR refused')
        },
        quit: refuse,
        disconnect: () => undefined,
      } as never,
      meterProvider: m.provider,
    })
    await expect(
      broken.apply(
        [{ entity: 'x', feature: 'score', value: 1, eventTime: t, version: 0 }],
        new Map(features.map((f) => [f.name, f])),
      ),
    ).rejects.toThrow()
    const pts = await m.collect()
    const ok = pointsOf(pts, 'db.client.operation.duration', {
      'db.system.name': 'redis',
      'db.operation.name': 'apply',
    })
    expect(ok[0]?.count).toBe(5)
    expect(ok[0]?.unit).toBe('s')
    expect(ok[0]?.scope).toBe('@skewless/online-redis')
    expect(ok[0]?.max).toBeLessThan(5)
    expect(metricValue(pts, 'db.client.operation.duration', { 'db.operation.name': 'read' })).toBeGreaterThan(
      0,
    )
    const failed = pointsOf(pts, 'db.client.operation.duration', { 'db.operation.name': 'apply' }).filter(
      (p) => p.attributes['error.type'] !== undefined,
    )
    expect(failed.reduce((n, p) => n + (p.count ?? 0), 0)).toBe(1)
    await sink.close()
    await store.close()
    await m.shutdown()
  })
})
