/**
 * The feature server over a real redis-server, with real HTTP requests: correct vectors (recomputed
 * from the raw page views), concurrent requests coalesced into few store reads (counted), p50/p99
 * latency printed, and the served values it logged audited against the offline log (0 mismatches).
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { freeLoopbackPort, type RedisServerHandle, startRedis } from '@skewless/adapter-tests'
import { type ServedValueRecord, skewAudit } from '@skewless/asof-join'
import { type HoppingWindow, windowAt } from '@skewless/core'
import { parquetLog } from '@skewless/offline-parquet'
import { redisStore } from '@skewless/online-redis'
import { type FeatureVector, type OnlineStore, onlineFeatures } from '@skewless/online-sink'
import { tableFromIPC } from 'apache-arrow'
import * as pw from 'parquet-wasm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { features, generateViews, type PageView } from '../src/features.js'
import { AVAILABILITY_DELAY_MS, loadFeatures } from '../src/load.js'
import { type ParquetServedLog, parquetServedLog } from '../src/served-log.js'
import { createFeatureServer, type FeatureServer } from '../src/server.js'

const PREFIX = 'serving-test:'
let redis: RedisServerHandle
let dir: string
let views: PageView[]
let store: OnlineStore
let storeReads = 0
let servedLog: ParquetServedLog
let server: FeatureServer
let url: string

beforeAll(async () => {
  redis = await startRedis({ useEnv: false })
  dir = await mkdtemp(join(tmpdir(), 'skewless-serving-test-'))
  views = generateViews(Date.now() - 10_000)
  await loadFeatures({ redisUrl: redis.url, redisPrefix: PREFIX, logDir: join(dir, 'feature-log'), views })
  // The server's store, with every read counted: one read = one store round trip.
  const redisReads = redisStore({ url: redis.url, prefix: PREFIX })
  store = new Proxy(redisReads, {
    get(target, prop, receiver) {
      if (prop === 'read') {
        return (...args: Parameters<OnlineStore['read']>) => {
          storeReads++
          return target.read(...args)
        }
      }
      const v = Reflect.get(target, prop, receiver)
      return typeof v === 'function' ? v.bind(target) : v
    },
  })
  servedLog = await parquetServedLog({ dir: join(dir, 'served'), maxRows: 500 })
  server = createFeatureServer({ store, features: features.describe(), servedLog, batchWindowMs: 5 })
  url = await server.listen(0)
}, 60_000)
afterAll(async () => {
  await server?.close().catch(() => undefined)
  await store?.close()
  await redis?.stop()
  if (dir) await rm(dir, { recursive: true, force: true })
})

async function post(body: unknown): Promise<{ status: number; json: Record<string, unknown>; ms: number }> {
  const t0 = performance.now()
  const res = await fetch(`${url}/get-online-features`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  const json = (await res.json()) as Record<string, unknown>
  return { status: res.status, json, ms: performance.now() - t0 }
}
const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] as number
}
const users = () => [...new Set(views.map((v) => v.user))]

/** What a vector must hold, recomputed from the raw views at the instant the reader read. */
function checkVector(v: FeatureVector): void {
  const mine = views.filter((x) => x.user === v.entity)
  const views1h = v.values.views_1h
  const last = v.values.last_page
  const purchases = v.values.purchases_total
  if (mine.length === 0) {
    expect([views1h, last, purchases], v.entity).toEqual([null, null, null])
    return
  }
  expect(views1h).not.toBeNull()
  const readTime = (views1h?.eventTime as number) + (views1h?.ageMs as number)
  const seen = mine.filter((x) => x.ts + AVAILABILITY_DELAY_MS <= readTime)
  const w = windowAt(
    readTime,
    features.describe().find((f) => f.name === 'views_1h')?.window as HoppingWindow,
  )
  expect(views1h?.value, `${v.entity} views_1h`).toBe(
    seen.filter((x) => x.ts >= w.start && x.ts < w.end).length,
  )
  const latest = seen.at(-1) as PageView
  expect(last?.value, `${v.entity} last_page`).toBe(latest.page)
  expect(last?.eventTime).toBe(latest.ts)
  expect(purchases?.value, `${v.entity} purchases_total`).toBe(seen.filter((x) => x.purchase).length)
}

describe('examples/serving: HTTP feature server over Redis', () => {
  const answered: FeatureVector[] = []

  it('serves correct vectors; sequential requests: p50/p99 printed', async () => {
    const all = users()
    const latencies: number[] = []
    for (let i = 0; i < 100; i++) {
      const entities = [all[i % all.length], all[(i * 7) % all.length]]
      const r = await post({ entities })
      expect(r.status, JSON.stringify(r.json)).toBe(200)
      const vectors = r.json.vectors as FeatureVector[]
      expect(vectors.map((v) => v.entity)).toEqual(entities)
      for (const v of vectors) checkVector(v)
      answered.push(...vectors)
      latencies.push(r.ms)
    }
    // An unknown entity and a numeric key are answered too: all null.
    const r = await post({ entities: ['nobody', 42], features: ['views_1h', 'last_page'] })
    expect(r.json.vectors).toEqual([
      { entity: 'nobody', values: { views_1h: null, last_page: null } },
      { entity: '42', values: { views_1h: null, last_page: null } },
    ])
    console.log(
      `serving, sequential (1 in flight, 5 ms batch window): ${latencies.length} requests, ` +
        `p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms`,
    )
  })

  it('coalesces concurrent requests into few store reads; concurrent p50/p99 printed', async () => {
    const all = users()
    const before = { reads: storeReads, batches: server.metrics().batches }
    const latencies: number[] = []
    const waves = 10
    const perWave = 40
    for (let w = 0; w < waves; w++) {
      const results = await Promise.all(
        Array.from({ length: perWave }, (_, i) =>
          post({
            entities: [all[(w * perWave + i) % all.length]],
            features: ['views_1h', 'last_page', 'purchases_total'],
          }),
        ),
      )
      for (const r of results) {
        expect(r.status).toBe(200)
        const vectors = r.json.vectors as FeatureVector[]
        for (const v of vectors) checkVector(v)
        answered.push(...vectors)
        latencies.push(r.ms)
      }
    }
    const reads = storeReads - before.reads
    console.log(
      `serving, ${waves} waves of ${perWave} concurrent requests: ${reads} store reads for ${waves * perWave} requests, ` +
        `p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms`,
    )
    expect(server.metrics().batches - before.batches).toBe(reads) // one store read per batch
    expect(reads).toBeGreaterThanOrEqual(waves)
    expect(reads).toBeLessThanOrEqual((waves * perWave) / 5)
  })

  it('a burst inside one batch window is exactly one store read', async () => {
    const wide = createFeatureServer({ store, features: features.describe(), batchWindowMs: 300 })
    const wideUrl = await wide.listen(0)
    try {
      const before = storeReads
      const all = users()
      const results = await Promise.all(
        all.slice(0, 25).map((u) =>
          fetch(`${wideUrl}/get-online-features`, {
            method: 'POST',
            body: JSON.stringify({ entities: [u] }),
          }),
        ),
      )
      expect(results.map((r) => r.status)).toEqual(all.slice(0, 25).map(() => 200))
      for (const r of results)
        for (const v of ((await r.json()) as { vectors: FeatureVector[] }).vectors) checkVector(v)
      expect(storeReads - before).toBe(1)
      expect(wide.metrics()).toMatchObject({ requests: 25, batches: 1, entitiesRead: 25 })
    } finally {
      await wide.close()
    }
  })

  it('answers bad requests with a clear 4xx', async () => {
    const unknown = await post({ entities: ['user-001'], features: ['views_1h', 'clicks_5m'] })
    expect(unknown.status).toBe(400)
    expect(unknown.json.error).toContain('unknown feature(s) clicks_5m')
    const notJson = await post('{"entities": [')
    expect(notJson.status).toBe(400)
    expect(notJson.json.error).toContain('not JSON')
    const badKey = await post({ entities: [{ id: 1 }] })
    expect(badKey.status).toBe(400)
    expect((await fetch(`${url}/nope`)).status).toBe(404)
    expect((await fetch(`${url}/get-online-features`)).status).toBe(405)
  })

  it('answers 503 naming the store when Redis cannot be reached', async () => {
    const down = redisStore({ url: `redis://127.0.0.1:${await freeLoopbackPort()}`, prefix: PREFIX })
    const unreachable = createFeatureServer({ store: down, features: features.describe() })
    const downUrl = await unreachable.listen(0)
    try {
      const t0 = performance.now()
      const res = await fetch(`${downUrl}/get-online-features`, {
        method: 'POST',
        body: JSON.stringify({ entities: ['user-001'] }),
        signal: AbortSignal.timeout(20_000),
      })
      expect(res.status).toBe(503)
      expect(((await res.json()) as { error: string }).error).toMatch(/^online store: .*127\.0\.0\.1/)
      console.log(`serving: unreachable Redis answered 503 in ${Math.round(performance.now() - t0)} ms`)
    } finally {
      await unreachable.close()
      await down.close()
    }
  })

  it('the served values it logged audit clean against the offline log (library and CLI)', async () => {
    await server.close() // answers what is in flight, writes the rest of the served log
    expect(servedLog.files.length).toBeGreaterThan(1) // rotated every 500 values
    const served: ServedValueRecord[] = []
    for (const file of servedLog.files) {
      const t = tableFromIPC(pw.readParquet(await readFile(file)).intoIPCStream())
      for (const row of t.toArray()) {
        const value = row.value_double ?? row.value_string ?? row.value_bool ?? null
        served.push({
          entity: row.entity,
          feature: row.feature,
          value,
          eventTime: row.event_time,
          readTime: row.read_time,
          answeredTime: row.answered_time,
        })
      }
    }
    // Every value a client got is in the served log.
    const logged = new Set(served.map((s) => `${s.entity}|${s.feature}|${s.eventTime}|${s.value}`))
    for (const v of answered) {
      for (const [f, s] of Object.entries(v.values)) {
        expect(
          logged.has(`${v.entity}|${f}|${s?.eventTime ?? null}|${s?.value ?? null}`),
          `${v.entity} ${f}`,
        ).toBe(true)
      }
    }
    const log = await parquetLog({
      dir: join(dir, 'feature-log'),
      features: features.describe(),
      readOnly: true,
    })
    try {
      const definitions = features.describe()
      const report = await skewAudit(served, log, { features: onlineFeatures(definitions), definitions })
      console.log(`serving audit: ${report.checked} served values, ${report.mismatches.length} mismatches`)
      expect(report.checked).toBe(served.length)
      expect(report.mismatches).toEqual([])
    } finally {
      await log.close()
    }
    // The documented command works on what the server wrote.
    const root = fileURLToPath(new URL('../../../', import.meta.url))
    const { stdout } = await promisify(execFile)(
      join(root, 'node_modules', '.bin', 'tsx'),
      [
        'packages/cli/src/bin.ts',
        'audit',
        join(dir, 'feature-log'),
        '--served',
        servedLog.files[0] as string,
      ],
      { cwd: root },
    )
    expect(stdout).toMatch(/checked \d+ served values: \d+ match the log, 0 mismatches/)
  })
})
