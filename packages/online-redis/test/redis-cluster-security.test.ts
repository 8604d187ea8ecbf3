// Redis Cluster with the ACL users of docs/security.md (plus the Cluster rights) over TLS, the
// cluster bus included: the writer and the reader work across slots, the reader cannot write, and a
// client without the CA is refused and writes nothing.
import { makeTestCa, type RedisClusterHandle, startRedisCluster, type TestCa } from '@skewless/adapter-tests'
import { collectingSink } from '@skewless/core'
import { redisStore } from '@skewless/online-redis'
import {
  type OnlineDeadLetter,
  type OnlineFeatureConfig,
  onlineReader,
  onlineSink,
  StoreUnavailableError,
} from '@skewless/online-sink'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readerAcl, userArgs, writerAcl } from './acl.js'

/** The Cluster rights docs/security.md adds to both users. */
const CLUSTER_RIGHTS = ' +cluster|slots +cluster|info'
const T = Date.UTC(2026, 10, 1)
const score: OnlineFeatureConfig = { name: 'score', valueType: 'double', strategy: 'cas' }
const fm = new Map([[score.name, score]])

describe('Redis Cluster over TLS with ACL users', () => {
  let ca: TestCa
  let cluster: RedisClusterHandle
  beforeAll(async () => {
    ca = makeTestCa()
    cluster = await startRedisCluster({
      nodes: 3,
      tls: { ...ca.server, caFile: ca.ca.certFile },
      args: userArgs([
        writerAcl('writer', 'writer-pw') + CLUSTER_RIGHTS,
        readerAcl('reader', 'reader-pw') + CLUSTER_RIGHTS,
      ]),
    })
  })
  afterAll(async () => {
    await cluster?.stop()
    ca?.remove()
  })

  const storeAs = (username: string, password: string, tls: Record<string, unknown> = { ca: ca.caPem }) =>
    redisStore({
      cluster: cluster.nodes,
      clientOptions: { redisOptions: { username, password, tls }, clusterRetryStrategy: () => null },
    })

  it('the writer writes 200 entities over every node, the reader reads them back', async () => {
    const store = storeAs('writer', 'writer-pw')
    const dead = collectingSink<OnlineDeadLetter>()
    const sink = onlineSink({ store, features: [score], deadLetters: dead })
    const entities = Array.from({ length: 200 }, (_, i) => `e${i}`)
    await sink.write(
      entities.map((entity, i) => ({ entity, feature: 'score', value: i, eventTime: T, version: 0 })),
    )
    await sink.close()
    expect(dead.items).toEqual([])
    await store.close()
    const reader = storeAs('reader', 'reader-pw')
    const vectors = await onlineReader({ store: reader, features: [score] }).get(entities, ['score'])
    expect(vectors.map((v) => v.values.score?.value)).toEqual(entities.map((_, i) => i))
    // On a Cluster a refused call fails its own slot's writes (the other slots' calls may have landed).
    const res = await reader.apply(
      [{ entity: 'e1', feature: 'score', value: -1, eventTime: T + 1, version: 0 }],
      fm,
    )
    expect(res.outcomes).toEqual([
      { reason: 'script-error', message: expect.stringMatching(/lacks \+evalsha .*NOPERM/) },
    ])
    await reader.close()
  })

  it('a client without the CA is refused and writes nothing (never downgraded)', async () => {
    const store = storeAs('writer', 'writer-pw', {})
    const write = { entity: 'fresh', feature: 'score', value: -1, eventTime: T + 1, version: 0 }
    const err = await store.apply([write], fm).catch((e: unknown) => e)
    // ioredis drops the handshake error of the connection that reads the slot map (its error handler
    // is a no-op), so a Cluster reports "None of startup nodes is available", not RedisTlsError.
    expect(err).toBeInstanceOf(StoreUnavailableError)
    expect((err as Error).message).toMatch(/None of startup nodes is available/)
    await store.close()
    const reader = storeAs('reader', 'reader-pw')
    expect((await reader.read(['fresh'], [score]))[0]?.[0]).toEqual({ kind: 'missing' })
    await reader.close()
  })
})
