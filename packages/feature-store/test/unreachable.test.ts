// The facade surfaces an unreachable online store as the store does: ingest() and
// getOnlineFeatures() reject within the store's unavailableAfter with RedisUnreachableError.
import { freeLoopbackPort } from '@skewless/adapter-tests'
import { defineFeatures, last, unbounded } from '@skewless/core'
import { memoryLog } from '@skewless/offline-log'
import { RedisUnreachableError, redisStore } from '@skewless/online-redis'
import { describe, expect, it } from 'vitest'
import { featureStore } from '../src/index.js'

interface Ev {
  user: string
  ts: number
  amount: number
}

const features = defineFeatures({
  entity: (e: Ev) => e.user,
  eventTime: (e) => e.ts,
  features: { last_amount: { window: unbounded(), aggregate: last('double'), value: (e) => e.amount } },
})

describe('featureStore over a Redis that cannot be reached', () => {
  it('ingest() and getOnlineFeatures() reject with RedisUnreachableError naming the address', async () => {
    const port = await freeLoopbackPort()
    await using fs = await featureStore({
      features,
      online: () =>
        redisStore({
          url: `redis://app:pw-secret-1@127.0.0.1:${port}`,
          unavailableAfter: 800,
          logger: false,
        }),
      offline: (defs) => memoryLog({ features: defs }),
      logger: false,
    })
    const t0 = Date.now() - 60_000
    const started = performance.now()
    const err = await fs.ingest([{ user: 'a', ts: t0, amount: 1 }]).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(RedisUnreachableError)
    expect((err as Error).message).toContain(`redis://app:***@127.0.0.1:${port}`)
    expect((err as Error).message).not.toContain('pw-secret-1')
    expect(performance.now() - started).toBeLessThan(800 + 2000 + 1500)
    // The store stays past its bound: a read fails at once with the same typed error.
    await expect(fs.getOnlineFeatures(['a'])).rejects.toBeInstanceOf(RedisUnreachableError)
  })
})
