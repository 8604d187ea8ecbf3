// Redis over TLS with a CA the test makes: rediss:// with the CA works; an untrusted CA, a
// certificate for another host and a plaintext URL to the TLS port are refused, never downgraded.
import { makeTestCa, type RedisServerHandle, startRedis, type TestCa } from '@skewless/adapter-tests'
import { collectingSink } from '@skewless/core'
import { RedisTlsError, redisStore } from '@skewless/online-redis'
import {
  type OnlineDeadLetter,
  type OnlineFeatureConfig,
  onlineReader,
  onlineSink,
} from '@skewless/online-sink'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const T = Date.UTC(2026, 10, 1)
const score: OnlineFeatureConfig = { name: 'score', valueType: 'double', strategy: 'cas' }
const fm = new Map([[score.name, score]])
const write = { entity: 'e1', feature: 'score', value: 4.5, eventTime: T, version: 0 }
/** Fail fast: a refused handshake must not be retried for long by the client either. */
const fast = { retryStrategy: () => 10 }

describe('Redis over TLS', () => {
  let ca: TestCa
  let good: RedisServerHandle
  let wrongHost: RedisServerHandle
  let rogue: RedisServerHandle
  beforeAll(async () => {
    ca = makeTestCa()
    const tls = (c: { certFile: string; keyFile: string }) => ({ ...c, caFile: ca.ca.certFile })
    good = await startRedis({ tls: tls(ca.server) })
    wrongHost = await startRedis({ tls: tls(ca.wrongHost) })
    rogue = await startRedis({ tls: tls(ca.rogueServer) })
  })
  afterAll(async () => {
    await Promise.all([good?.stop(), wrongHost?.stop(), rogue?.stop()])
    ca?.remove()
  })

  it('rediss:// with the test CA as the ioredis tls option: writes and reads go over TLS', async () => {
    expect(good.url).toMatch(/^rediss:\/\/127\.0\.0\.1:\d+$/)
    const store = redisStore({ url: good.url, clientOptions: { tls: { ca: ca.caPem } } })
    const sink = onlineSink({ store, features: [score] })
    await sink.write([write])
    await sink.close()
    const [v] = await onlineReader({ store, features: [score] }).get(['e1'], ['score'])
    expect(v?.values.score?.value).toBe(4.5)
    await store.close()
  })

  // [case, url of, client options]
  const withCa = () => ({ tls: { ca: ca.caPem } })
  const refused: [string, () => string, () => Record<string, unknown>, RegExp][] = [
    ['no CA given (system trust only)', () => good.url, () => ({}), /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO/],
    ['a server certificate of another CA', () => rogue.url, withCa, /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO/],
    ['a certificate for another host', () => wrongHost.url, withCa, /ERR_TLS_CERT_ALTNAME_INVALID/],
  ]
  it.each(refused)(
    'refused with RedisTlsError, not retried by the sink: %s',
    async (_, urlOf, opts, code) => {
      const store = redisStore({ url: urlOf(), clientOptions: { ...fast, ...opts() } })
      const err = await store.apply([write], fm).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(RedisTlsError)
      expect((err as RedisTlsError).transient).toBe(false)
      expect((err as RedisTlsError).code).toBe('tls-refused')
      expect((err as RedisTlsError).tlsCode).toMatch(code)
      expect((err as Error).message).toMatch(/TLS connection to Redis was refused/)
      // Through the sink: dead-lettered at once (a retry cannot fix a certificate), with the reason.
      const dead = collectingSink<OnlineDeadLetter>()
      const sink = onlineSink({ store, features: [score], deadLetters: dead, retry: { minDelayMs: 1 } })
      await sink.write([write])
      await sink.close()
      expect(sink.metrics().retries).toBe(0)
      expect(dead.items.map((d) => d.message)).toEqual([expect.stringMatching(code)])
      await store.close()
    },
  )

  it('a redis:// (plaintext) URL to the TLS port gets no answer: nothing is sent in the clear', async () => {
    const plain = good.url.replace('rediss://', 'redis://')
    const store = redisStore({ url: plain, clientOptions: fast })
    const err = await store.apply([write], fm).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Error)
    expect((err as { transient?: boolean }).transient).toBe(true) // a reset connection: the sink retries it
    await store.close()
  })
})
