/**
 * The worker in this process against a real nats-server (4-partition stream) and a real
 * redis-server: every partition runs to the online store and its own log; a partition moves between
 * two workers through release/acquire and goes on where it stopped; a partition another live worker
 * owns cannot be taken twice (and says so); health and metrics report per partition.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { jetstream } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { type RedisServerHandle, startRedis } from '@skewless/adapter-tests'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type NatsServerHandle, startNats } from '../../source-nats/test/nats-server.js'
import { runWorker, type Worker, type WorkerHealth, type WorkerMetrics } from '../src/index.js'
import {
  createClicksStream,
  expected,
  identity,
  logRecords,
  MAPPING,
  onlineValues,
  publish,
  T0,
  until,
  workerOptions,
} from './harness.js'

let nats: NatsServerHandle
let redis: RedisServerHandle
let nc: NatsConnection
let root: string
const workers: Worker[] = []

beforeAll(async () => {
  ;[nats, redis] = await Promise.all([startNats({ config: MAPPING }), startRedis({ useEnv: false })])
  nc = await nats.connect()
  await createClicksStream(nc)
  root = mkdtempSync(join(tmpdir(), 'skewless-worker-'))
})
afterAll(async () => {
  for (const w of workers) await w.close().catch(() => undefined)
  await nc?.close()
  await Promise.all([nats?.stop(), redis?.stop()])
  if (root) rmSync(root, { recursive: true, force: true })
})

const eventsIn = (w: Worker) => w.metrics().totals.eventsIn
const get = async <T>(url: string): Promise<{ status: number; body: T }> => {
  const res = await fetch(url)
  return { status: res.status, body: (await res.json()) as T }
}

it('moves a partition between two workers with its checkpoint; health and metrics per partition', async () => {
  const base = workerOptions(nats.url, redis.url, root)
  const quiet = {
    logger: false as const,
    handleSignals: false as const,
    checkpointInterval: 200,
    lagAfterMs: 20_000,
  }
  const a = await runWorker({ ...base, ...quiet, partitions: [0, 1], health: { port: 0 } })
  workers.push(a)
  const b = await runWorker({ ...base, ...quiet, partitions: [2, 3] })
  workers.push(b)

  // Events of one user land in one partition: its watermark moves, the idle ones' stay unset and
  // hold nothing back (each partition is its own pipeline; there is no minimum across them).
  const js = jetstream(nc)
  for (let n = 0; n < 10; n++)
    await js.publish('clicks.solo', JSON.stringify({ user: 'solo', n: n - 100, amount: 1 }))
  await until('the solo events read', 15_000, () => eventsIn(a) + eventsIn(b) === 10)
  const marks = [...a.health().partitions, ...b.health().partitions].map((p) => p.watermark)
  expect(marks.filter((w) => w === null)).toHaveLength(3)
  // The default out-of-orderness is 0: the watermark is the partition's latest event time.
  expect(marks.filter((w) => w !== null)).toEqual([T0 - 91])

  await publish(nc, 0, 2000)
  await until('2000 events read', 15_000, () => eventsIn(a) + eventsIn(b) === 2010)
  await until('a checkpoint of every partition', 15_000, () =>
    [a, b].every((w) => w.metrics().byPartition.every((p) => (p.pipeline?.checkpoints ?? 0) > 0)),
  )

  // Health over HTTP: both of A's partitions ready.
  const healthUrl = a.healthUrl as string
  const h1 = await get<WorkerHealth>(`${healthUrl}/healthz`)
  expect(h1.status).toBe(200)
  expect(
    h1.body.partitions.map((p) => [p.partition, p.state]),
    JSON.stringify(h1.body),
  ).toEqual([
    [0, 'ready'],
    [1, 'ready'],
  ])
  const m1 = await get<WorkerMetrics>(`${healthUrl}/metrics`)
  expect(m1.body.partitions).toEqual([0, 1])
  expect(m1.body.totals.eventsIn).toBe(eventsIn(a))
  const src = m1.body.byPartition[0]?.source as { messages: number }
  expect(src.messages).toBe(m1.body.byPartition[0]?.pipeline?.eventsIn)

  // Partition 1 moves from A to B: released with a checkpoint that covers what A read of it.
  const p1Events = a.metrics().byPartition[1]?.pipeline?.eventsIn as number
  expect(p1Events).toBeGreaterThan(0)
  const released = await a.release(1)
  expect(released.partition).toBe(1)
  expect(released.eventsIn).toBe(p1Events)
  expect(released.checkpoint?.sources['CLICKS/partition=1']).toBeGreaterThan(0)
  expect(a.partitions).toEqual([0])
  await b.acquire(1)
  expect(b.partitions).toEqual([1, 2, 3])

  // A partition a live worker owns cannot be taken twice: B fails to open its log, and says so.
  await expect(b.acquire(0)).rejects.toMatchObject({
    code: 'log-locked',
    message: expect.stringMatching(/open for writing by another writer/),
  })
  const bHealth = b.health()
  expect(bHealth.status).toBe('failing')
  expect(bHealth.partitions.find((p) => p.partition === 0)?.state).toBe('failed')
  expect(bHealth.partitions.find((p) => p.partition === 0)?.reason).toMatch(
    /open for writing by another writer/,
  )
  // A keeps it, untouched.
  expect(a.health().partitions).toMatchObject([{ partition: 0, state: 'ready' }])
  await b.release(0).catch(() => undefined)
  expect(b.partitions).toEqual([1, 2, 3])
  expect(b.health().status).toBe('ok')

  // More events: B continues partition 1 from A's checkpoint (the resumed pipeline's counters go on
  // from the checkpoint's), A goes on with partition 0.
  await publish(nc, 2000, 4000)
  await until('every event read', 15_000, () => eventsIn(a) + eventsIn(b) === 4010)
  // B's partition 1 counters went on from A's checkpoint: it read what A had not.
  expect(b.metrics().byPartition[0]?.pipeline?.eventsIn).toBeGreaterThan(p1Events)
  await Promise.all([a.checkpoint(), b.checkpoint()])
  expect(Object.fromEntries(await onlineValues(redis.url))).toEqual(Object.fromEntries(expected(4000)))

  await a.close()
  await b.close()
  // Every partition's log holds its writes once: no identity twice (a replayed or moved write
  // logged again would be), and the last logged count of each user is its total.
  const records = (await logRecords(root)).filter((r) => r.record.entity !== 'solo')
  expect(new Set(records.map((r) => r.partition))).toEqual(new Set([0, 1, 2, 3]))
  const ids = records.map((r) => identity(r.record))
  expect(new Set(ids).size).toBe(ids.length)
  const lastCount = new Map<string, number>()
  for (const { record } of records)
    if (record.feature === 'clicks' && record.outcome === 'applied')
      lastCount.set(record.entity, Math.max(lastCount.get(record.entity) ?? 0, record.value as number))
  expect(Object.fromEntries(lastCount)).toEqual(
    Object.fromEntries([...expected(4000)].map(([u, v]) => [u, v.clicks])),
  )
  // Each user lives in one partition's log only.
  const partitionOf = new Map<string, Set<number>>()
  for (const r of records)
    partitionOf.set(r.record.entity, (partitionOf.get(r.record.entity) ?? new Set()).add(r.partition))
  for (const [, ps] of partitionOf) expect(ps.size).toBe(1)
}, 30_000)
