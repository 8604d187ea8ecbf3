/**
 * A store that cannot be reached fails, bounded and typed; one that comes back within the bound loses
 * nothing. On the old code the closed port made run() wait forever (retries climbing, no output).
 */
import { freeLoopbackPort, type RedisServerHandle, startRedis } from '@skewless/adapter-tests'
import {
  createPipeline,
  defineFeatures,
  InvalidDefinitionError,
  type Logger,
  last,
  unbounded,
} from '@skewless/core'
import { RedisUnreachableError, redisStore } from '@skewless/online-redis'
import { onlineFeatures, onlineReader, onlineSink, StoreUnavailableError } from '@skewless/online-sink'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const SECRET = 'unreachable-s3cret-pw'
const T0 = Date.now() - 60_000

interface Ev {
  user: string
  ts: number
  score: number
}
const features = defineFeatures<Ev>({
  entity: (e) => e.user,
  eventTime: (e) => e.ts,
  features: { score: { window: unbounded(), aggregate: last('double'), value: (e) => e.score } },
})
const configs = onlineFeatures(features.describe())

function recordingLogger() {
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = []
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj: obj as Record<string, unknown>, msg: msg ?? '' })
    }
  const logger: Logger = { warn: at('warn'), info: at('info'), error: at('error') }
  return { logger, lines }
}

describe('an unreachable Redis', () => {
  it('a closed port rejects run() within unavailableAfter with RedisUnreachableError naming the address, redacted', async () => {
    const port = await freeLoopbackPort()
    const { logger, lines } = recordingLogger()
    const store = redisStore({
      url: `redis://app:${SECRET}@127.0.0.1:${port}`,
      unavailableAfter: 1000,
      logger,
    })
    const sink = onlineSink({ store, features: configs, logger })
    const events = Array.from({ length: 20 }, (_, i) => ({ user: `u${i}`, ts: T0 + i, score: i }))
    const started = performance.now()
    const err = await createPipeline({ source: events, features, sink, logger })
      .run()
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    const tookMs = performance.now() - started
    await sink.close().catch(() => undefined)
    await store.close()
    expect(err).toBeInstanceOf(RedisUnreachableError)
    expect(err).toBeInstanceOf(StoreUnavailableError)
    const e = err as RedisUnreachableError
    expect(e.code).toBe('store-unreachable')
    expect(e.transient).toBe(false)
    expect(e.address).toBe(`redis://app:***@127.0.0.1:${port}`)
    expect(e.message).toContain(`redis://app:***@127.0.0.1:${port}`)
    expect(e.message).toMatch(/ECONNREFUSED/)
    expect(JSON.stringify(lines) + e.message + String(e.stack)).not.toContain(SECRET)
    // The bound plus at most one backoff (retry.maxDelayMs, 2 s by default) and a client attempt.
    expect(tookMs).toBeGreaterThanOrEqual(900)
    expect(tookMs).toBeLessThan(1000 + 2000 + 1500)
    // Visible on the way: the loss, the retries, and the sink stopping.
    expect(lines.some((l) => /cannot reach Redis/.test(l.msg))).toBe(true)
    expect(lines.some((l) => /retried with backoff/.test(l.msg))).toBe(true)
    expect(lines.some((l) => l.level === 'error' && /cannot be reached/.test(l.msg))).toBe(true)
  })

  it('a reader call past the bound fails the same way', async () => {
    const port = await freeLoopbackPort()
    const store = redisStore({ url: `redis://127.0.0.1:${port}`, unavailableAfter: 300, logger: false })
    const reader = onlineReader({ store, features: configs })
    const started = performance.now()
    let err: unknown
    for (let i = 0; i < 50 && err === undefined; i++) {
      err = await reader.get(['u1'], ['score']).then(
        () => undefined,
        (e: unknown) => (e instanceof RedisUnreachableError ? e : undefined),
      )
    }
    await store.close()
    expect(err).toBeInstanceOf(RedisUnreachableError)
    expect(performance.now() - started).toBeLessThan(3000)
  })

  it('unavailableAfter must be a duration > 0', () => {
    expect(() => redisStore({ unavailableAfter: 0 })).toThrow(InvalidDefinitionError)
    expect(() => redisStore({ unavailableAfter: 'soon' })).toThrow(/unavailableAfter/)
  })
})

describe('Redis killed and restarted within unavailableAfter', () => {
  let server: RedisServerHandle
  beforeAll(async () => {
    server = await startRedis({ useEnv: false, appendonly: true, appendfsync: 'always' })
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('nothing is lost, and the logger hears the loss and the recovery', async () => {
    const { logger, lines } = recordingLogger()
    const store = redisStore({
      url: server.url,
      unavailableAfter: '8s',
      logger,
      clientOptions: { retryStrategy: () => 50 },
    })
    const sink = onlineSink({
      store,
      features: configs,
      logger,
      timeoutMs: 1000,
      retry: { minDelayMs: 10, maxDelayMs: 200 },
    })
    const n = 400
    async function* source() {
      for (let i = 0; i < n; i++) {
        if (i === 150) {
          await server.kill()
          setTimeout(() => void server.restart(), 500)
        }
        if (i % 50 === 0) await new Promise((r) => setTimeout(r, 20))
        yield { user: `u${i % 100}`, ts: T0 + i, score: i }
      }
    }
    const result = await createPipeline({
      source: source(),
      features,
      sink,
      logger,
      batchSize: 25,
      lingerMs: 1,
    }).run()
    await sink.close()
    expect(result.metrics.sinkDeadLetters).toBe(0)
    const reader = onlineReader({ store, features: configs })
    const users = Array.from({ length: 100 }, (_, u) => `u${u}`)
    const vectors = await reader.get(users, ['score'])
    for (let u = 0; u < 100; u++) expect(vectors[u]?.values.score?.value).toBe(300 + u)
    await store.close()
    expect(lines.some((l) => /cannot reach Redis/.test(l.msg))).toBe(true)
    const back = lines.find((l) => /can be reached again/.test(l.msg))
    expect(back?.obj.downMs).toBeGreaterThan(0)
    expect(lines.some((l) => l.level === 'error')).toBe(false)
  })
})
