import { readdirSync } from 'node:fs'
import * as fsp from 'node:fs/promises'
import { AbortedError, type FeatureWrite } from '@skewless/core'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { parquetLog } from '../src/index.js'
import type { ParquetLog } from '../src/types.js'
import { FEATURES, mixedRecords } from './data.js'
import { removeTempDirs, tempDir } from './helpers.js'
import { logRows, multiset } from './rows.js'

vi.mock('node:fs/promises', async (importOriginal) => {
  const m = await importOriginal<typeof import('node:fs/promises')>()
  return { ...m, readFile: vi.fn(m.readFile), rename: vi.fn(m.rename) }
})

afterAll(removeTempDirs)
afterEach(() => {
  vi.mocked(fsp.readFile).mockRestore?.()
  vi.mocked(fsp.rename).mockRestore?.()
})

/** Hold every rename (the commit's last step) until `release()`; `held` resolves at the first one held. */
function holdRenames(): { held: Promise<void>; release: () => void } {
  const real = vi.mocked(fsp.rename).getMockImplementation() as typeof fsp.rename
  let release!: () => void
  const gate = new Promise<void>((r) => {
    release = r
  })
  let heldOne!: () => void
  const held = new Promise<void>((r) => {
    heldOne = r
  })
  vi.mocked(fsp.rename).mockImplementation(async (a, b) => {
    heldOne()
    await gate
    return real(a, b)
  })
  return { held, release }
}

const openFds = () => readdirSync('/proc/self/fd').length
const ALL = Object.keys(FEATURES)

/** A log of `recs` appended in `chunks` appends (one file per partition each); no worker threads. */
async function logOf(recs: FeatureWrite[], chunks: number): Promise<{ dir: string; log: ParquetLog }> {
  const dir = await tempDir()
  const log = await parquetLog({ dir, workers: 0, features: FEATURES, rollRows: 100 })
  const size = Math.ceil(recs.length / chunks)
  for (let i = 0; i < recs.length; i += size) await log.append(recs.slice(i, i + size))
  return { dir, log }
}

/** Abort `ac` from inside the log, when the scan has read its `n`-th data file. */
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

async function drain(it: AsyncIterable<unknown>): Promise<number> {
  let n = 0
  for await (const _ of it) n++
  return n
}

describe('AbortOptions on the Parquet log', () => {
  it('scan: a signal aborted before the start rejects with AbortedError (cause = reason) and reads no file', async () => {
    const { log } = await logOf(mixedRecords(400), 10)
    const ac = new AbortController()
    const reason = new Error('stop')
    ac.abort(reason)
    const before = log.metrics().filesRead
    const err = await drain(log.scan({ features: ALL, signal: ac.signal })).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AbortedError)
    expect((err as AbortedError).cause).toBe(reason)
    expect(log.metrics().filesRead).toBe(before)
    await expect(drain(log.scanRows({ features: ALL, signal: ac.signal }))).rejects.toBeInstanceOf(
      AbortedError,
    )
    await log.close()
  })

  it('scan: aborted after its first files, it stops between two files, closes every pinned handle, and the log still reads and closes', async () => {
    const recs = mixedRecords(1200)
    const { dir, log } = await logOf(recs, 20) // 20 files in each of 12 partitions
    const fdsBefore = openFds()
    const ac = new AbortController()
    const reason = new Error('enough')
    abortAtFileRead(log, 3, ac, reason)
    let batches = 0
    const err = await (async () => {
      for await (const _ of log.scan({ features: ALL, signal: ac.signal })) batches++
    })().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AbortedError)
    expect((err as AbortedError).cause).toBe(reason)
    expect(batches).toBeGreaterThan(0) // it was mid-way: some files were yielded
    expect(log.metrics().filesRead).toBeLessThan(240) // and it did not read them all
    expect(openFds()).toBe(fdsBefore) // pinned descriptors and read-ahead released
    // Nothing is left half-open: a full scan reads every row, the log closes and reopens cleanly.
    expect(await logRows(log)).toEqual(multiset(recs))
    await log.close()
    const again = await parquetLog({ dir, workers: 0, features: FEATURES })
    expect(await logRows(again)).toEqual(multiset(recs))
    await again.close()
  })

  it('stateAt: aborted before the start, and mid-way (while reading files), rejects with AbortedError; the answer is unchanged afterwards', async () => {
    const recs = mixedRecords(1200)
    const { log } = await logOf(recs, 20)
    const t = Date.UTC(2026, 10, 5)
    const expected = await log.stateAt(t, { features: ALL })
    const pre = new AbortController()
    pre.abort()
    await expect(log.stateAt(t, { features: ALL, signal: pre.signal })).rejects.toBeInstanceOf(AbortedError)
    const fdsBefore = openFds()
    const ac = new AbortController()
    abortAtFileRead(log, 2, ac, 'mid')
    const err = await log.stateAt(t, { features: ALL, signal: ac.signal }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AbortedError)
    expect((err as AbortedError).cause).toBe('mid')
    expect(openFds()).toBe(fdsBefore)
    expect(await log.stateAt(t, { features: ALL })).toEqual(expected)
    // From a state checkpoint too (its records are yielded before the uncovered files).
    await log.checkpointState()
    const cp = new AbortController()
    cp.abort()
    await expect(log.stateAt(t, { features: ALL, signal: cp.signal })).rejects.toBeInstanceOf(AbortedError)
    expect(await log.stateAt(t, { features: ALL })).toEqual(expected)
    await log.close()
  })

  it('compact: aborted mid-way (after its first run of files was read) leaves every row as it was, commits nothing half-done, and the log reopens without leftovers', async () => {
    const recs = mixedRecords(2400)
    const { dir, log } = await logOf(recs, 24) // 24 files per partition, rollRows 100: several runs each
    const rowsBefore = await logRows(log)
    const filesBefore = await log.listFiles()
    const ac = new AbortController()
    const readFile = vi.mocked(fsp.readFile)
    const real = readFile.getMockImplementation() as typeof fsp.readFile
    let parquetReads = 0
    readFile.mockImplementation(((path: unknown, ...rest: unknown[]) => {
      if (typeof path === 'string' && path.endsWith('.parquet') && ++parquetReads === 2)
        ac.abort('mid-compaction')
      return (real as (...a: unknown[]) => unknown)(path, ...rest)
    }) as typeof fsp.readFile)
    const err = await log.compact({ minFiles: 2, signal: ac.signal }).catch((e: unknown) => e)
    readFile.mockImplementation(real)
    expect(err).toBeInstanceOf(AbortedError)
    expect((err as AbortedError).cause).toBe('mid-compaction')
    expect(parquetReads).toBeGreaterThan(1)
    const filesAfter = await log.listFiles()
    // It stopped early: most partitions were never touched (the first run, complete, may be committed).
    expect(filesAfter.length).toBeGreaterThan(filesBefore.length / 2)
    expect(await logRows(log)).toEqual(rowsBefore)
    await log.close()
    const again = await parquetLog({ dir, workers: 0, features: FEATURES, rollRows: 100 })
    expect(again.recovery).toMatchObject({ tempFiles: [], replacedFiles: 0, abortedCompactionFiles: 0 })
    expect(await logRows(again)).toEqual(rowsBefore)
    // A later compaction finishes the job.
    await again.compact({ minFiles: 2 })
    expect((await again.listFiles()).length).toBeLessThan(filesAfter.length)
    expect(await logRows(again)).toEqual(rowsBefore)
    await again.close()
  })
})

/** A log with one commit of 200 records written and held at its rename, not yet durable. */
async function commitHeld() {
  const dir = await tempDir()
  const log = await parquetLog({ dir, workers: 0, features: FEATURES })
  const recs = mixedRecords(200)
  const hold = holdRenames()
  await log.write(recs)
  await hold.held
  return { dir, log, recs, hold }
}

describe('flush and close: AbortOptions', () => {
  it('flush stops waiting when aborted mid-way (a commit held pending); the commit still lands and a later flush waits for it', async () => {
    const { log, recs, hold } = await commitHeld()
    const ac = new AbortController()
    const reason = new Error('deadline')
    const flushing = log.flush({ signal: ac.signal })
    ac.abort(reason)
    const err = await flushing.catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AbortedError)
    expect((err as AbortedError).cause).toBe(reason)
    // Aborted before the start: rejected at once, the commit still held.
    await expect(log.flush({ signal: ac.signal })).rejects.toBeInstanceOf(AbortedError)
    hold.release()
    await log.flush()
    expect(await logRows(log, ALL)).toEqual(multiset(recs))
    await log.close()
  })

  it('close stops waiting when aborted, but the close carries on: pending commits land, the lock is released, a second close resolves', async () => {
    const { dir, log, recs, hold } = await commitHeld()
    const ac = new AbortController()
    const closing = log.close({ signal: ac.signal })
    ac.abort(new Error('shutdown deadline'))
    await expect(closing).rejects.toBeInstanceOf(AbortedError)
    hold.release()
    await log.close() // waits for the same close, which ends normally
    await expect(log.append(recs)).rejects.toThrow(/closed/)
    // The writer lock is free and every row committed: a new writer opens the directory and reads them.
    const again = await parquetLog({ dir, workers: 0, features: FEATURES })
    expect(await logRows(again, ALL)).toEqual(multiset(recs))
    await again.close()
  })
})

describe('checkpointState: AbortOptions', () => {
  it('aborted mid-way (while it reads files) writes no checkpoint for that feature; stateAt answers as before, and a later call completes', async () => {
    const recs = mixedRecords(1200)
    const { log } = await logOf(recs, 20)
    const t = Date.UTC(2026, 10, 5)
    const expected = await log.stateAt(t, { features: ALL })
    const pre = new AbortController()
    pre.abort()
    await expect(log.checkpointState({ signal: pre.signal })).rejects.toBeInstanceOf(AbortedError)
    const fds = openFds()
    const ac = new AbortController()
    abortAtFileRead(log, 3, ac, 'mid-checkpoint')
    const err = await log.checkpointState({ signal: ac.signal }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AbortedError)
    expect((err as AbortedError).cause).toBe('mid-checkpoint')
    expect(openFds()).toBe(fds)
    expect(await log.stateAt(t, { features: ALL })).toEqual(expected)
    const report = await log.checkpointState()
    expect(report.features.map((f) => f.feature).sort()).toEqual([...ALL].sort())
    expect(await log.stateAt(t, { features: ALL })).toEqual(expected)
    await log.close()
  })
})

describe('ParquetLog.metrics()', () => {
  it('is a snapshot of the counters and the dead letters; the deprecated `stats` reads the same counters', async () => {
    const { log } = await logOf(mixedRecords(120), 3)
    const m = log.metrics()
    expect(m.commits).toBe(3)
    expect(m.rows).toBe(120)
    expect(m).toMatchObject({ deadLetters: 0, deadLettersByReason: {} })
    expect(log.stats.commits).toBe(m.commits)
    expect(log.stats.rows).toBe(m.rows)
    await log.append(mixedRecords(4))
    expect(m.commits).toBe(3) // a snapshot: it does not move
    expect(log.metrics().commits).toBe(4)
    await log.close()
  })
})
