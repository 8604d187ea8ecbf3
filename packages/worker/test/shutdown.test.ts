/**
 * A worker process stopped by SIGTERM in the middle of a stream that is still being produced: it
 * commits a checkpoint of every partition, closes everything and exits by itself with code 0; a new
 * process resumes each partition from that checkpoint with no gap and no duplicate, and the final
 * online store and logs are what an uninterrupted run gives (a recomputation from the events).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { NatsConnection } from '@nats-io/transport-node'
import { type RedisServerHandle, startRedis } from '@skewless/adapter-tests'
import { parquetLog } from '@skewless/offline-parquet'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type NatsServerHandle, startNats } from '../../source-nats/test/nats-server.js'
import { partitionLogDir, type WorkerHealth, type WorkerMetrics } from '../src/index.js'
import {
  createClicksStream,
  expected,
  features,
  identity,
  logRecords,
  MAPPING,
  onlineValues,
  PARTITIONS,
  publish,
  until,
} from './harness.js'
import { exitWithin, fixture, startProcess } from './process.js'

const TOTAL = 4000
let nats: NatsServerHandle
let redis: RedisServerHandle
let nc: NatsConnection
let root: string

beforeAll(async () => {
  ;[nats, redis] = await Promise.all([startNats({ config: MAPPING }), startRedis({ useEnv: false })])
  nc = await nats.connect()
  await createClicksStream(nc)
  root = mkdtempSync(join(tmpdir(), 'skewless-worker-stop-'))
})
afterAll(async () => {
  await nc?.close()
  await Promise.all([nats?.stop(), redis?.stop()])
  if (root) rmSync(root, { recursive: true, force: true })
})

const all = Array.from({ length: PARTITIONS }, (_, p) => p).join(',')
const json = async <T>(url: string): Promise<T> => (await (await fetch(url)).json()) as T

it('SIGTERM mid-stream: checkpoint committed, exit 0 by itself, the restart resumes with no gap or duplicate', async () => {
  const args = [nats.url, redis.url, root, all, '300']
  const third = Math.floor(TOTAL / 3)
  await publish(nc, 0, third)
  const first = startProcess(fixture('worker-main.ts'), args)
  const url = await first.healthUrl
  await until('the first life to read a third of the stream', 20_000, async () => {
    const m = await json<WorkerMetrics>(`${url}/metrics`)
    return m.totals.eventsIn >= third
  })
  // The rest is produced through the SIGTERM and both lives of the worker.
  let produced = third
  const producing = (async () => {
    for (; produced < TOTAL; produced += 500) {
      await publish(nc, produced, Math.min(produced + 500, TOTAL))
      await new Promise((r) => setTimeout(r, 150))
    }
  })()
  await until('the first life to read some of the rest', 20_000, async () => {
    const m = await json<WorkerMetrics>(`${url}/metrics`)
    return m.totals.eventsIn > third
  })
  const health = await json<WorkerHealth>(`${url}/healthz`)
  expect(health.partitions.map((p) => p.state)).toEqual(['ready', 'ready', 'ready', 'ready'])

  const signalled = Date.now()
  first.child.kill('SIGTERM')
  // Mid-stream: the producer has not finished.
  expect(produced).toBeLessThan(TOTAL)
  const end = await exitWithin(first, 15_000)
  const stopMs = Date.now() - signalled
  expect({ code: end.code, signal: end.signal }).toEqual({ code: 0, signal: null })
  expect(stopMs).toBeLessThan(15_000)
  const closedLine = /^closed (.*)$/m.exec(end.stdout)?.[1]
  expect(closedLine, end.stderr).toBeDefined()
  const closed = JSON.parse(closedLine as string) as {
    reason: string
    signal: string
    partitions: { partition: number; eventsIn: number; position: number | null; error: string | null }[]
  }
  expect(closed.reason).toBe('signal')
  expect(closed.signal).toBe('SIGTERM')
  expect(closed.partitions.map((p) => p.error)).toEqual([null, null, null, null])
  const stoppedAt = closed.partitions.reduce((a, p) => a + p.eventsIn, 0)
  expect(stoppedAt).toBeGreaterThan(third)
  // The checkpoint each partition's log committed is the position the worker reported at exit.
  for (const p of closed.partitions) {
    expect(p.position).toBeGreaterThan(0)
    const log = await parquetLog({
      dir: partitionLogDir(root, p.partition),
      features: features.describe(),
      readOnly: true,
      workers: 0,
    })
    const marks = await log.readMarks()
    await log.close()
    expect(marks.checkpoint?.sources[`CLICKS/partition=${p.partition}`]).toBe(p.position)
  }

  // The restart resumes every partition from its checkpoint. Its counters go on from the
  // checkpoint's, so reading everything exactly once brings them to TOTAL: a gap stops short, a
  // duplicate goes past.
  const second = startProcess(fixture('worker-main.ts'), args)
  const url2 = await second.healthUrl
  await producing
  let last: WorkerMetrics | undefined
  await until('the second life to read the whole stream', 45_000, async () => {
    last = await json<WorkerMetrics>(`${url2}/metrics`)
    return last.totals.eventsIn >= TOTAL && last.byPartition.every((p) => p.sink?.buffered === 0)
  }).catch((err: Error) => {
    // Say where it stood: a gap stops short of TOTAL for good, a slow machine is still reading.
    const where = last?.byPartition.map((p) => ({
      p: p.partition,
      state: p.state,
      in: p.pipeline?.eventsIn,
      at: p.positions,
    }))
    throw new Error(`${err.message}: ${JSON.stringify(where)}\n${second.stderr().slice(-3000)}`)
  })
  second.child.kill('SIGTERM')
  const end2 = await exitWithin(second, 15_000)
  expect({ code: end2.code, signal: end2.signal }).toEqual({ code: 0, signal: null })
  const closed2 = JSON.parse(/^closed (.*)$/m.exec(end2.stdout)?.[1] as string) as typeof closed
  expect(closed2.partitions.reduce((a, p) => a + p.eventsIn, 0)).toBe(TOTAL)

  // What an uninterrupted run leaves: every user's count and sum in Redis, each write logged once.
  expect(Object.fromEntries(await onlineValues(redis.url))).toEqual(Object.fromEntries(expected(TOTAL)))
  const records = await logRecords(root)
  const ids = records.map((r) => identity(r.record))
  expect(new Set(ids).size).toBe(ids.length)
  const lastCount = new Map<string, number>()
  for (const { record } of records)
    if (record.feature === 'clicks' && record.outcome === 'applied')
      lastCount.set(record.entity, Math.max(lastCount.get(record.entity) ?? 0, record.value as number))
  expect(Object.fromEntries(lastCount)).toEqual(
    Object.fromEntries([...expected(TOTAL)].map(([u, v]) => [u, v.clicks])),
  )
}, 150_000)
