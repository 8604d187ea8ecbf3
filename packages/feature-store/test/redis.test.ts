// The facade over a real redis-server with its changelog: the log is written from the changelog
// (exactly once), checkpoints are committed by the log, and a second ingest of the same resumable
// source resumes after what the log holds.
import { type RedisServerHandle, startRedis } from '@skewless/adapter-tests'
import { arraySource, count, defineFeatures, last, unbounded } from '@skewless/core'
import { memoryLog } from '@skewless/offline-log'
import { redisStore } from '@skewless/online-redis'
import type { ServedRecord } from '@skewless/online-sink'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { featureStore } from '../src/index.js'

interface Login {
  user: number
  ts: number
  country: string
}

const features = defineFeatures({
  entity: (e: Login) => e.user,
  eventTime: (e) => e.ts,
  features: {
    logins: { window: unbounded(), aggregate: count() }, // no window edge: the test may run at midnight
    last_country: { window: unbounded(), aggregate: last('string'), value: (e) => e.country, ttl: '7d' },
  },
})

let server: RedisServerHandle
beforeAll(async () => {
  server = await startRedis({ useEnv: false })
})
afterAll(async () => {
  await server?.stop()
})

describe('featureStore over Redis with a changelog', () => {
  it('logs each applied write once, resumes from the log, serves numeric keys, audits clean', async () => {
    // Event times a few minutes before now: the store's clock (Redis TIME) stamps availability.
    const t0 = Date.now() - 10 * 60_000
    const logins: Login[] = Array.from({ length: 40 }, (_, i) => ({
      user: i % 4,
      ts: t0 + i * 1000,
      country: i % 3 === 0 ? 'FR' : 'DE',
    }))
    const log = memoryLog({ features: features.describe() })
    const served: ServedRecord[] = []
    const servedLog = {
      write: (b: readonly ServedRecord[]) => void served.push(...b),
      flush: async () => undefined,
      close: async () => undefined,
    }
    const fs = await featureStore({
      features,
      online: () => redisStore({ url: server.url, prefix: `fs-${t0}:`, changelog: true }),
      offline: log,
      servedLog,
    })
    const first = await fs.ingest(arraySource('logins', logins.slice(0, 25), { batchSize: 5 }))
    expect(first.logPath).toBe('changelog')
    expect((await log.readMarks()).checkpoint?.sources).toEqual({ logins: 25 })
    const second = await fs.ingest(arraySource('logins', logins, { batchSize: 5 }))
    expect(second.ended).toBe('completed')

    const vectors = await fs.getOnlineFeatures([0, 1, 2, 3])
    expect(vectors.map((v) => v.values.logins?.value)).toEqual([10, 10, 10, 10])
    expect(vectors.map((v) => v.values.last_country?.value)).toEqual(['FR', 'DE', 'DE', 'FR'])

    // Every applied write is in the log exactly once: no two records share an identity.
    const ids = new Set<string>()
    let records = 0
    for await (const rows of log.scanRows({ features: fs.names })) {
      for (const w of rows) {
        ids.add(`${w.entity}/${w.feature}/${w.eventTime}/${w.version}`)
        records++
      }
    }
    expect(records).toBeGreaterThan(0)
    expect(ids.size).toBe(records)

    const report = await fs.audit(served)
    expect(report.checked).toBe(8)
    expect(report.mismatches).toEqual([])
    await fs.close() // closes the Redis client it created: the test process can exit
  })
})
