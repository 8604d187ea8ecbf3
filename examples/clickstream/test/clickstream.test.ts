/**
 * The clickstream example end to end, as a user runs it: its own nats-server -js and redis-server on
 * free loopback ports, `src/main.ts` in a child process (which starts the two worker processes).
 * Then the facts, recomputed here from the produced clicks: what Redis serves, what the training set
 * holds, what the partitioned log holds.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type RedisServerHandle, startRedis } from '@skewless/adapter-tests'
import { skewAudit } from '@skewless/asof-join'
import { arraySource, collectingSink, createPipeline, type FeatureUpdate, windowAt } from '@skewless/core'
import { openPartitionedLog } from '@skewless/offline-parquet'
import { onlineReader } from '@skewless/online-sink'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type NatsServerHandle, startNats } from '../../../packages/source-nats/test/nats-server.js'
import {
  type Click,
  clickAt,
  featureNames,
  features,
  onlineConfigs,
  PARTITIONS,
  partitionOf,
  store,
} from '../src/clickstream.js'
import { type ClickstreamResult, runClickstream } from '../src/run.js'

const EVENTS = 4000
const USERS = 40

let nats: NatsServerHandle
let redis: RedisServerHandle
let out: string
let result: ClickstreamResult
let stdout = ''

beforeAll(async () => {
  ;[nats, redis] = await Promise.all([startNats(), startRedis({ useEnv: false })])
  out = mkdtempSync(join(tmpdir(), 'skewless-clickstream-test-'))
  result = await runClickstream({
    nats: nats.url,
    redis: { url: redis.url },
    out,
    events: EVENTS,
    users: USERS,
    nodeArgs: ['--import', 'tsx'],
    print: (l) => {
      stdout += `${l}\n`
    },
    table: () => undefined,
  })
  console.log(stdout)
}, 120_000)
afterAll(async () => {
  await Promise.all([nats?.stop(), redis?.stop()])
  if (out) rmSync(out, { recursive: true, force: true })
})

const clicks = (): Click[] =>
  Array.from({ length: EVENTS }, (_, i) => clickAt(i, result.t0, USERS, result.stepMs))
const users = () => Array.from({ length: USERS }, (_, i) => `user-${String(i).padStart(3, '0')}`)

/**
 * What an uninterrupted in-memory run computes: each partition's clicks in stream order through
 * one pipeline (its own watermark, as a worker runs it), the newest update per (user, feature), as
 * compare-and-set keeps it.
 */
async function recompute(): Promise<Map<string, FeatureUpdate>> {
  const latest = new Map<string, FeatureUpdate>()
  for (let p = 0; p < PARTITIONS; p++) {
    const sink = collectingSink<FeatureUpdate>()
    const mine = clicks().filter((c) => partitionOf(c.user) === p)
    await createPipeline({ source: arraySource(`p${p}`, mine), features, sink, drainTo: 'none' }).run()
    for (const u of sink.items) {
      const k = `${u.entity}|${u.feature}`
      const seen = latest.get(k)
      if (
        !seen ||
        u.eventTime > seen.eventTime ||
        (u.eventTime === seen.eventTime && u.version > seen.version)
      )
        latest.set(k, u)
    }
  }
  return latest
}

it('runs: two workers stopped cleanly, every partition of the log read by the training set', () => {
  expect(stdout).toContain('both workers stopped cleanly')
  expect(stdout).toContain('as-of join over partitions 0, 1, 2, 3')
  expect(result.partitions).toEqual([0, 1, 2, 3])
  expect(result.events).toBe(EVENTS)
})

it('Redis serves what the produced clicks give, for every user', async () => {
  const reader = store({ url: redis.url })
  const vectors = await onlineReader({ store: reader, features: onlineConfigs }).get(users(), featureNames)
  const readTime = Date.now()
  await reader.close()
  const want = await recompute()
  const spendWindow = features.describe().find((f) => f.name === 'spend_last_hour')?.window
  const { start, end } = windowAt(readTime, spendWindow as Parameters<typeof windowAt>[1])
  let checked = 0
  for (const v of vectors) {
    const mine = clicks().filter((c) => c.user === v.entity)
    expect(mine.length).toBeGreaterThan(0)
    // Exact by brute force: the count since the start, and the spend of the hour window now.
    expect(v.values.clicks_total?.value).toBe(mine.length)
    const spend = mine.filter((c) => c.ts >= start && c.ts < end).reduce((a, c) => a + c.amount, 0)
    expect(v.values.spend_last_hour?.value as number).toBeCloseTo(spend, 6)
    // The windowed values equal an uninterrupted single-process run's final state.
    for (const f of ['clicks_last_5_minutes', 'last_page_10m'])
      expect([v.entity, f, v.values[f]?.value]).toEqual([v.entity, f, want.get(`${v.entity}|${f}`)?.value])
    checked++
  }
  expect(checked).toBe(USERS)
  // And what the example printed is what Redis holds.
  for (const [user, printed] of Object.entries(result.online)) {
    const v = vectors.find((x) => x.entity === user)
    expect(printed.clicks_total).toBe(v?.values.clicks_total?.value)
    expect(printed.clicks_last_5_minutes).toBe(v?.values.clicks_last_5_minutes?.value)
  }
})

it('the training set: nothing before the first click, what was served after the last one', async () => {
  const want = await recompute()
  const before = result.training.filter((r) => (r.time as number) < result.t0)
  const after = result.training.filter((r) => (r.time as number) === result.readTime)
  expect(before.length).toBe(5)
  expect(after.length).toBe(5)
  for (const r of before) for (const f of featureNames) expect(r[f]).toBeNull()
  for (const r of after) {
    const user = r.entity as string
    expect(r.clicks_total).toBe(clicks().filter((c) => c.user === user).length)
    expect(r.clicks_last_5_minutes).toBe(want.get(`${user}|clicks_last_5_minutes`)?.value)
    expect(r.last_page_10m).toBe(want.get(`${user}|last_page_10m`)?.value)
    // The row equals what Redis served at that instant.
    for (const f of featureNames) expect([user, f, r[f]]).toEqual([user, f, result.online[user]?.[f]])
  }
})

it('the log: four partitions, each user in one, every write once, and the audit finds no skew', async () => {
  const log = await openPartitionedLog({
    root: join(out, 'clicks-log'),
    features: features.describe(),
    workers: 0,
  })
  try {
    expect(log.partitions).toEqual([0, 1, 2, 3])
    const ids = new Set<string>()
    let n = 0
    for (let p = 0; p < PARTITIONS; p++) {
      for await (const rows of (log.logs[p] as (typeof log.logs)[number]).scanRows({
        features: featureNames,
      })) {
        for (const r of rows) {
          expect(partitionOf(r.entity)).toBe(p)
          ids.add(`${r.entity}|${r.feature}|${r.tileStart ?? ''}|${r.eventTime}|${r.version}`)
          n++
        }
      }
    }
    expect(ids.size).toBe(n)
    const state = await log.stateAt(result.readTime, { features: ['clicks_total'] })
    expect(state.map((r) => [r.entity, r.value])).toEqual(
      users().map((u) => [u, clicks().filter((c) => c.user === u).length]),
    )
    const served = Object.entries(result.online).flatMap(([entity, values]) =>
      Object.entries(values).map(([feature, value]) => ({
        entity,
        feature,
        value,
        readTime: result.readTime,
      })),
    )
    const report = await skewAudit(served, log, { definitions: features.describe(), compareEventTime: false })
    expect(report.checked).toBe(5 * featureNames.length)
    expect(report.mismatches).toEqual([])
  } finally {
    await log.close()
  }
})
