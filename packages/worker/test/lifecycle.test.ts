/**
 * The worker's lifecycle vocabulary without servers (an in-memory source and store, a real Parquet
 * log per partition): `checkpoint({ signal })` and `close({ signal })` reject with AbortedError, the
 * Duration options (`lagAfter`, `changelogInterval`, `shutdownTimeout`) are read as their `*Ms` forms were.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AbortedError, InvalidDefinitionError, type ResumableSource } from '@skewless/core'
import { memoryStore } from '@skewless/online-sink'
import { afterAll, describe, expect, it } from 'vitest'
import { runWorker, type WorkerOptions } from '../src/index.js'
import { type Click, features, until } from './harness.js'

const roots: string[] = []
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true })
})

/** One batch of 10 clicks for the partition, then waits for more until the pipeline stops it. */
function parked(p: number): ResumableSource<Click> {
  return {
    name: `clicks/partition=${p}`,
    async *open(from, { signal }) {
      if (from === undefined) {
        yield {
          events: Array.from({ length: 10 }, (_, n) => ({ user: `u${p}`, n, amount: 1 })),
          position: 10,
        }
      }
      await new Promise<void>((r) => {
        if (signal.aborted) r()
        else signal.addEventListener('abort', () => r(), { once: true })
      })
    },
  }
}

function options(extra: Partial<WorkerOptions<Click>> = {}): WorkerOptions<Click> {
  const root = mkdtempSync(join(tmpdir(), 'skewless-worker-lifecycle-'))
  roots.push(root)
  return {
    definitions: features,
    partitions: [0, 1],
    source: parked,
    store: () => memoryStore({ changelog: true }),
    log: root,
    logOptions: { workers: 0 },
    logger: false,
    handleSignals: false,
    ...extra,
  }
}

describe('worker: AbortOptions', () => {
  it('checkpoint({ signal }) aborted before rejects with AbortedError; without it every partition commits', async () => {
    const w = await runWorker(options({ checkpointInterval: '1h', changelogInterval: '50ms' }))
    await until('the 20 events read', 10_000, () => w.metrics().totals.eventsIn === 20)
    const ac = new AbortController()
    ac.abort('no')
    const err = await w.checkpoint({ signal: ac.signal }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AbortedError)
    expect((err as AbortedError).cause).toBe('no')
    await w.checkpoint()
    for (const p of w.metrics().byPartition) expect(p.pipeline?.checkpoints).toBeGreaterThan(0)
    await w.close()
  })

  it('close({ signal }) stops waiting with AbortedError; the close goes on and `closed` resolves', async () => {
    const w = await runWorker(options())
    await until('the 20 events read', 10_000, () => w.metrics().totals.eventsIn === 20)
    const ac = new AbortController()
    ac.abort('deadline')
    const err = await w.close({ signal: ac.signal }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AbortedError)
    const summary = await w.closed
    expect(summary.partitions.map((p) => p.error)).toEqual([undefined, undefined])
    expect(summary.partitions.map((p) => p.eventsIn)).toEqual([10, 10])
  })
})

describe('worker: Duration options', () => {
  it('lagAfter takes a Duration: a partition with no checkpoint for longer is lagging, and says so in ms', async () => {
    const w = await runWorker(options({ checkpointInterval: '1h', lagAfter: '20ms', shutdownTimeout: '5s' }))
    await until('a partition lagging', 10_000, () => w.health().partitions.some((p) => p.state === 'lagging'))
    const lagging = w.health().partitions.find((p) => p.state === 'lagging')
    expect(lagging?.reason).toMatch(/lagAfter: 20 ms/)
    await w.close()
  })

  it('a bad Duration, or both forms at once, is refused when the worker starts', async () => {
    await expect(runWorker(options({ lagAfter: 'later' }))).rejects.toThrow(InvalidDefinitionError)
    await expect(runWorker(options({ lagAfter: '1m', lagAfterMs: 60_000 }))).rejects.toThrow(/not both/)
    await expect(runWorker(options({ shutdownTimeout: '5s', shutdownTimeoutMs: 5000 }))).rejects.toThrow(
      /not both/,
    )
  })
})
