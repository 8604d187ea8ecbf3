// AbortOptions on the calls that read the logs and the store, over real backends: the as-of join and
// the skew audit over a Parquet log (aborted from inside the log, while it reads its files), the
// online reader over a redis-server whose clients are paused (aborted while the round trip waits).
import { readdirSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type RedisServerHandle, redisRawCommand, startRedis } from '@skewless/adapter-tests'
import { asOfJoin, skewAudit } from '@skewless/asof-join'
import {
  AbortedError,
  defineFeatures,
  type FeatureWrite,
  last,
  manualClock,
  type OnlineFeatureConfig,
  unbounded,
} from '@skewless/core'
import { type ParquetLog, parquetLog } from '@skewless/offline-parquet'
import { redisStore } from '@skewless/online-redis'
import { memoryStore, onlineReader, onlineSink } from '@skewless/online-sink'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { featureStore } from '../src/index.js'

const T0 = Date.UTC(2026, 0, 1)
const MIN = 60_000
const openFds = () => readdirSync('/proc/self/fd').length

const dirs: string[] = []
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

/** 30 files of 20 records of feature `x` (values of 10 entities over 10 hours). */
async function parquetOf(): Promise<{ dir: string; log: ParquetLog; recs: FeatureWrite[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'skewless-abort-'))
  dirs.push(dir)
  const log = await parquetLog({ dir, workers: 0, features: { x: 'double' } })
  const recs: FeatureWrite[] = []
  for (let f = 0; f < 30; f++) {
    const batch: FeatureWrite[] = []
    for (let j = 0; j < 20; j++) {
      const i = f * 20 + j
      const eventTime = T0 + i * MIN
      batch.push({
        entity: `e${i % 10}`,
        feature: 'x',
        value: i,
        eventTime,
        version: 0,
        availableTime: eventTime + 10,
        outcome: 'applied',
      })
    }
    recs.push(...batch)
    await log.append(batch)
  }
  return { dir, log, recs }
}

/** Abort `ac` from inside the log, when it has read `n` more data files. */
function abortAtFileRead(log: ParquetLog, n: number, ac: AbortController, reason: unknown): void {
  const stats = log.stats as { filesRead: number }
  let read = stats.filesRead
  const target = read + n
  Object.defineProperty(stats, 'filesRead', {
    configurable: true,
    enumerable: true,
    get: () => read,
    set: (v: number) => {
      read = v
      if (v >= target && !ac.signal.aborted) ac.abort(reason)
    },
  })
}

const labels = {
  entity: Array.from({ length: 50 }, (_, i) => `e${i % 10}`),
  time: Array.from({ length: 50 }, (_, i) => T0 + (i * 12 + 5) * MIN),
}

describe('asOfJoin and skewAudit over a Parquet log: AbortOptions', () => {
  it('asOfJoin: aborted before the start reads no file; aborted mid-scan rejects with AbortedError, releases the files, and the same join then answers as before', async () => {
    const { dir, log } = await parquetOf()
    const expected = await asOfJoin(labels, log, { features: ['x'] })
    const pre = new AbortController()
    pre.abort('before')
    const read0 = log.metrics().filesRead
    await expect(asOfJoin(labels, log, { features: ['x'], signal: pre.signal })).rejects.toBeInstanceOf(
      AbortedError,
    )
    expect(log.metrics().filesRead).toBe(read0)

    const fds = openFds()
    const ac = new AbortController()
    abortAtFileRead(log, 3, ac, 'mid-join')
    const err = await asOfJoin(labels, log, { features: ['x'], signal: ac.signal }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AbortedError)
    expect((err as AbortedError).cause).toBe('mid-join')
    expect(log.metrics().filesRead - read0).toBeLessThan(30) // it stopped before the end
    expect(openFds()).toBe(fds)
    const again = await asOfJoin(labels, log, { features: ['x'] })
    expect(again.getChild('x')?.toArray()).toEqual(expected.getChild('x')?.toArray())
    await log.close()
    const reopened = await parquetLog({ dir, workers: 0, features: { x: 'double' } })
    expect(reopened.recovery.tempFiles).toEqual([])
    await reopened.close()
  })

  it('skewAudit: aborted before the start and mid-scan rejects with AbortedError; unaborted, the same audit is clean', async () => {
    const { log, recs } = await parquetOf()
    // What a reader would have served: the latest value per entity at a few read times.
    const served = [60, 200, 450].flatMap((m) => {
      const readTime = T0 + m * MIN
      return Array.from({ length: 10 }, (_, e) => {
        const w = recs
          .filter((r) => r.entity === `e${e}` && r.availableTime <= readTime)
          .at(-1) as FeatureWrite
        return { entity: `e${e}`, feature: 'x', value: w.value, eventTime: w.eventTime, readTime }
      })
    })
    const pre = new AbortController()
    pre.abort()
    await expect(skewAudit(served, log, { signal: pre.signal })).rejects.toBeInstanceOf(AbortedError)
    const fds = openFds()
    const ac = new AbortController()
    abortAtFileRead(log, 2, ac, 'mid-audit')
    const err = await skewAudit(served, log, { signal: ac.signal }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AbortedError)
    expect((err as AbortedError).cause).toBe('mid-audit')
    expect(openFds()).toBe(fds)
    const report = await skewAudit(served, log)
    expect(report).toMatchObject({ checked: 30, matched: 30, mismatches: [] })
    await log.close()
  })
})

describe('onlineReader.get: AbortOptions', () => {
  const features: OnlineFeatureConfig[] = [{ name: 'x', valueType: 'double', strategy: 'cas' }]
  let server: RedisServerHandle
  beforeAll(async () => {
    server = await startRedis({ useEnv: false })
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('over Redis: aborted before, no round trip; aborted while the round trip waits (clients paused), AbortedError at once; the reader then serves again', async () => {
    const store = redisStore({ url: server.url, prefix: 'abort:' })
    const sink = onlineSink({ store, features })
    await sink.write([{ entity: 'a', feature: 'x', value: 1, eventTime: Date.now(), version: 1 }])
    await sink.flush()
    const reader = onlineReader({ store, features })
    const pre = new AbortController()
    pre.abort('before')
    const err0 = await reader.get(['a'], ['x'], { signal: pre.signal }).catch((e: unknown) => e)
    expect(err0).toBeInstanceOf(AbortedError)
    expect((err0 as AbortedError).cause).toBe('before')
    expect(reader.metrics()).toMatchObject({ gets: 0, failures: 1 })

    // Every client's commands wait for 1.5 s: the reader's read is stuck in its round trip.
    expect(await redisRawCommand(server.port, 'CLIENT PAUSE 1500 ALL')).toMatch(/^\+OK/)
    const ac = new AbortController()
    const started = performance.now()
    setTimeout(() => ac.abort('deadline'), 100)
    const err = await reader.get(['a'], ['x'], { signal: ac.signal }).catch((e: unknown) => e)
    const waited = performance.now() - started
    expect(err).toBeInstanceOf(AbortedError)
    expect((err as AbortedError).cause).toBe('deadline')
    expect(waited).toBeLessThan(1200) // it did not wait for the pause to end
    // The connection was not broken: once the pause ends the same reader serves the value.
    const [v] = await reader.get(['a'], ['x'])
    expect(v?.values.x?.value).toBe(1)
    expect(reader.metrics()).toMatchObject({ gets: 1, vectors: 1, values: 1, nulls: 0, failures: 2 })
    await sink.close()
    await store.close()
  })

  it('over the memory store: a servedLog receives nothing from an aborted get', async () => {
    const store = memoryStore()
    const served: unknown[] = []
    const reader = onlineReader({
      store,
      features,
      servedLog: { write: (b) => void served.push(...b), flush: async () => {}, close: async () => {} },
    })
    const pre = new AbortController()
    pre.abort()
    await expect(reader.get(['a'], ['x'], { signal: pre.signal })).rejects.toBeInstanceOf(AbortedError)
    expect(served).toEqual([])
    await reader.get(['a'], ['x'])
    expect(served).toHaveLength(1)
  })
})

describe('the facade passes the signal on', () => {
  it('getHistoricalFeatures, audit, materialize and getOnlineFeatures reject with AbortedError, mid-join too, and answer without it', async () => {
    const { dir, log: filled } = await parquetOf()
    await filled.close()
    const xs = defineFeatures({
      entity: (e: { user: string; ts: number; v: number }) => e.user,
      eventTime: (e) => e.ts,
      features: { x: { window: unbounded(), aggregate: last('double'), value: (e) => e.v } },
    })
    const clock = manualClock(T0 + 600 * MIN)
    await using fs = await featureStore({
      features: xs,
      online: memoryStore({ clock }),
      offline: await parquetLog({ dir, workers: 0, features: xs.describe() }),
      clock,
    })
    const pre = new AbortController()
    pre.abort('before')
    const signal = pre.signal
    await expect(fs.getHistoricalFeatures(labels, ['x'], { signal })).rejects.toBeInstanceOf(AbortedError)
    await expect(fs.audit([], { signal })).rejects.toBeInstanceOf(AbortedError)
    await expect(fs.materialize({ signal })).rejects.toBeInstanceOf(AbortedError)
    await expect(fs.getOnlineFeatures(['e1'], ['x'], { signal })).rejects.toBeInstanceOf(AbortedError)
    const ac = new AbortController()
    abortAtFileRead(fs.offline as ParquetLog, 2, ac, 'mid-join')
    const err = await fs.getHistoricalFeatures(labels, ['x'], { signal: ac.signal }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AbortedError)
    expect((err as AbortedError).cause).toBe('mid-join')
    const table = await fs.getHistoricalFeatures(labels, ['x'])
    expect(table.numRows).toBe(50)
    await fs.materialize()
    const [v] = await fs.getOnlineFeatures(['e9'], ['x'])
    expect(v?.values.x?.value).toBe(599)
  })
})
