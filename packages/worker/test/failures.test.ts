/**
 * A partition that fails, lags, or cannot start is visible — state, reason, HTTP status and an
 * error line in the log — and never stops the other partitions. Memory stores and Parquet logs in a
 * temp dir: no servers.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { arraySource, type Logger, offsetSource, type ResumableSource } from '@skewless/core'
import { parquetLog } from '@skewless/offline-parquet'
import { memoryStore } from '@skewless/online-sink'
import { afterEach, expect, it } from 'vitest'
import { partitionLogDir, runWorker, type Worker, type WorkerHealth } from '../src/index.js'
import { type Click, clickAt, features, until } from './harness.js'

const dirs: string[] = []
const workers: Worker[] = []
afterEach(async () => {
  for (const w of workers.splice(0)) await w.close()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function capture(): Logger & { lines: { level: string; obj: object; msg?: string }[] } {
  const lines: { level: string; obj: object; msg?: string }[] = []
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj, ...(msg === undefined ? {} : { msg }) })
    }
  return { lines, info: at('info'), warn: at('warn'), error: at('error') }
}

/** Clicks `0..n-1`, then (with `failAt`) an error instead of the rest, once `gate` resolves. */
function clicks(
  p: number,
  n: number,
  failAt?: number,
  shift = 0,
  gate?: Promise<void>,
): ResumableSource<Click> {
  return offsetSource<Click>(
    `clicks/partition=${p}`,
    async function* (from) {
      for (let i = from; i < n; i++) {
        if (i === failAt) {
          await gate
          throw new Error(`source of partition ${p} broke at ${i}`)
        }
        const c = clickAt(i)
        yield { ...c, n: c.n + shift }
        // Paced, so checkpoints land in between.
        if (i % 50 === 49) await new Promise((r) => setTimeout(r, 10))
      }
      // A live source: waits for more until aborted.
      await new Promise(() => undefined)
    },
    { batchSize: 50 },
  )
}

it('a failing partition is failed (503, error logged) while the others run; a lagging one is lagging', async () => {
  const root = mkdtempSync(join(tmpdir(), 'skewless-worker-fail-'))
  dirs.push(root)
  const logger = capture()
  const worker = await runWorker<Click>({
    definitions: features,
    partitions: [0, 1, 2],
    // 0 fails after 100 events; 1 is healthy; 2 reads events ten days old (behind maxEventLag).
    source: (p) =>
      p === 0 ? clicks(0, 500, 100) : p === 1 ? clicks(1, 300) : clicks(2, 300, undefined, -10 * 86_400_000),
    store: () => memoryStore({ changelog: true }),
    log: root,
    logOptions: { workers: 0 },
    checkpointInterval: 100,
    lagAfterMs: 60_000,
    maxEventLag: '1d',
    pipeline: { historyWarningAge: Number.POSITIVE_INFINITY },
    health: { port: 0 },
    handleSignals: false,
    logger,
  })
  workers.push(worker)
  await until('partition 0 to fail', 10_000, () => worker.health().partitions[0]?.state === 'failed')
  await until(
    'partition 1 to read everything',
    10_000,
    () => worker.metrics().byPartition[1]?.pipeline?.eventsIn === 300,
  )
  const res = await fetch(`${worker.healthUrl}/healthz`)
  expect(res.status).toBe(503)
  const h = (await res.json()) as WorkerHealth
  expect(h.status).toBe('failing')
  expect(h.partitions.map((p) => [p.partition, p.state])).toEqual([
    [0, 'failed'],
    [1, 'ready'],
    [2, 'lagging'],
  ])
  expect(h.partitions[0]?.reason).toBe('source of partition 0 broke at 100')
  expect(h.partitions[2]?.reason).toMatch(/watermark .* behind the clock/)
  const errors = logger.lines.filter((l) => l.level === 'error')
  expect(errors).toHaveLength(1)
  expect(errors[0]?.obj).toMatchObject({ partition: 0, error: 'source of partition 0 broke at 100' })
  // The failed partition's checkpoint is where a restart resumes: acquire restarts it here.
  expect(worker.partitions).toEqual([0, 1, 2])

  // Closing reports the failure (a signal shutdown would exit with code 1).
  const summary = await worker.close()
  expect(summary.partitions.map((p) => [p.partition, p.error === undefined])).toEqual([
    [0, false],
    [1, true],
    [2, true],
  ])
  expect(summary.partitions[1]?.eventsIn).toBe(300)
})

it('acquire restarts a failed partition from its last committed checkpoint', async () => {
  const root = mkdtempSync(join(tmpdir(), 'skewless-worker-restart-'))
  dirs.push(root)
  let broken = true
  let breakNow: () => void = () => undefined
  const gate = new Promise<void>((r) => {
    breakNow = r
  })
  const store = memoryStore({ changelog: true })
  const worker = await runWorker<Click>({
    definitions: features,
    partitions: [0],
    source: () => clicks(0, 400, broken ? 250 : undefined, 0, gate),
    // One store for the partition's whole life on this worker (a test stand-in for Redis).
    store: () => ({ ...store, capabilities: store.capabilities, close: async () => undefined }),
    log: root,
    logOptions: { workers: 0 },
    checkpointInterval: 20,
    // The default (3 checkpoint intervals: 60 ms) would call the restarted partition lagging when a
    // loaded machine takes longer than that between its start and the check (lifecycle.test tests lagAfter).
    lagAfter: '1m',
    handleSignals: false,
    logger: false,
  })
  workers.push(worker)
  const position = () => worker.metrics().byPartition[0]?.positions['clicks/partition=0']
  await until('a checkpoint at the event before the break', 10_000, () => position() === 250)
  breakNow()
  await until('partition 0 to fail', 10_000, () => worker.health().partitions[0]?.state === 'failed')
  const resumeFrom = worker.metrics().byPartition[0]?.positions['clicks/partition=0'] as number
  expect(resumeFrom).toBeGreaterThan(0)
  expect(resumeFrom).toBeLessThanOrEqual(250)
  broken = false
  await worker.acquire(0)
  expect(worker.health().partitions[0]?.state).toBe('ready')
  await until(
    'the restarted partition to read the rest',
    10_000,
    () => worker.metrics().byPartition[0]?.pipeline?.eventsIn === 400,
  )
  expect(worker.metrics().byPartition[0]?.starts).toBe(2)
})

it('refuses bad options with typed errors', async () => {
  const base = {
    definitions: features,
    source: (p: number) => clicks(p, 1),
    store: () => memoryStore({ changelog: true }),
    log: '/nonexistent',
  }
  await expect(runWorker({ ...base, partitions: [0, 0] })).rejects.toMatchObject({
    code: 'invalid-definition',
  })
  await expect(runWorker({ ...base, partitions: [-1] })).rejects.toMatchObject({ code: 'invalid-argument' })
  await expect(runWorker({ ...base, partitions: [], checkpointInterval: 0 })).rejects.toMatchObject({
    code: 'invalid-definition',
  })
})

it('a store without a changelog fails its partition with a message saying what to do', async () => {
  const root = mkdtempSync(join(tmpdir(), 'skewless-worker-nochangelog-'))
  dirs.push(root)
  const worker = await runWorker<Click>({
    definitions: features,
    partitions: [0],
    source: (p) => clicks(p, 10),
    store: () => memoryStore(),
    log: root,
    handleSignals: false,
    logger: false,
  })
  workers.push(worker)
  expect(worker.health().partitions[0]).toMatchObject({
    state: 'failed',
    reason: expect.stringMatching(/changelog/),
  })
  await expect(worker.acquire(0)).rejects.toMatchObject({ code: 'invalid-definition' })
})

it('a partition whose source ends completes: checkpoint committed, its log released', async () => {
  const root = mkdtempSync(join(tmpdir(), 'skewless-worker-completed-'))
  dirs.push(root)
  const events = Array.from({ length: 120 }, (_, i) => clickAt(i))
  const worker = await runWorker<Click>({
    definitions: features,
    partitions: [0],
    source: () => arraySource('clicks/partition=0', events, { batchSize: 50 }),
    store: () => memoryStore({ changelog: true }),
    log: root,
    logOptions: { workers: 0 },
    handleSignals: false,
    logger: false,
  })
  workers.push(worker)
  await until('the partition to complete', 10_000, () => worker.health().partitions[0]?.state === 'completed')
  expect(worker.health().status).toBe('ok')
  expect(worker.metrics().byPartition[0]?.positions['clicks/partition=0']).toBe(120)
  // Its writer lock is free: the log opens for writing, and holds the final checkpoint.
  const log = await parquetLog({ dir: partitionLogDir(root, 0), features: features.describe(), workers: 0 })
  expect((await log.readMarks()).checkpoint?.sources['clicks/partition=0']).toBe(120)
  await log.close()
})
