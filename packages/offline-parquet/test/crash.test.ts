import { type ChildProcess, spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DuckDBInstance } from '@duckdb/node-api'
import type { FeatureWrite } from '@skewless/core'
import { afterAll, describe, expect, it } from 'vitest'
import { childArgs } from '../../../scripts/test-children.js'
import { parquetLog } from '../src/index.js'
import { BATCH_FEATURES, BATCH_ROWS, batch, checkScan, scanBatches } from './concurrent.js'
import { removeTempDirs, tempDir } from './helpers.js'

afterAll(removeTempDirs)

const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = join(here, '../../..')
const ROWS = 12_000
const FEATURES = { clicks: 'int64', spend: 'double', country: 'string', active: 'bool' } as const

/** Start the writer, collect acknowledged batch ids, and SIGKILL it inside a commit after the `afterAcks`-th ack (+ `delayMs`). */
function runAndKill(
  dir: string,
  afterAcks: number,
  delayMs: number,
  firstId: number,
  compact = false,
): Promise<{ acked: Set<number>; recovered: number; compactions: number }> {
  return new Promise((resolve, reject) => {
    const args = [...childArgs(join(here, 'fixtures/crash-writer.ts')), dir, String(ROWS), String(firstId)]
    const child: ChildProcess = spawn(process.execPath, [...args, ...(compact ? ['compact'] : [])], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const acked = new Set<number>()
    let recovered = -1
    let compactions = 0
    let buf = ''
    let stderr = ''
    let killing = false
    child.stderr?.on('data', (d) => {
      stderr += String(d)
    })
    child.stdout?.on('data', (d) => {
      buf += String(d)
      let nl = buf.indexOf('\n')
      while (nl >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        nl = buf.indexOf('\n')
        if (line.startsWith('ready ')) recovered = Number(line.slice(6))
        if (line.startsWith('compacted ')) compactions++
        // An ack line printed before the kill is an acknowledgement, even if read after it.
        if (line.startsWith('ack ')) acked.add(Number(line.slice(4)))
        if (!killing && acked.size >= afterAcks && (!compact || compactions > 0)) {
          killing = true
          setTimeout(() => killWhenCommitting(child, dir), delayMs)
        }
      }
    })
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL')
        reject(new Error(`writer exited with ${code}/${signal} before the kill: ${stderr}`))
      else resolve({ acked, recovered, compactions })
    })
  })
}

/**
 * SIGKILL the writer as soon as a temporary file shows up (a commit is between writing its files and
 * renaming them), or after 1 s at the latest — so most kills land inside a commit.
 */
function killWhenCommitting(child: ChildProcess, dir: string): void {
  const deadline = Date.now() + 1000
  const poll = () => {
    let committing = false
    try {
      committing = readdirSync(dir, { recursive: true }).some((f) => String(f).includes('_tmp-'))
    } catch {}
    if (committing || Date.now() > deadline) child.kill('SIGKILL')
    else setImmediate(poll)
  }
  poll()
}

async function walk(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String)
}

describe('crash safety (SIGKILL of the writing process)', () => {
  it.each([
    { compact: false, what: 'appending' },
    { compact: true, what: 'appending and compacting in a loop' },
  ])(
    '$what: every acknowledged record survives exactly once, nothing partial is visible, DuckDB still reads the directory',
    async ({ compact }) => {
      const dir = await tempDir()
      // Two crashes in a row: the second writer starts by recovering from the first.
      // Kill repeatedly (each writer first recovers from the previous crash) until a kill has landed
      // in the middle of a commit at least twice (the reopen then finds its temp files).
      let midCommit = 0
      const allAcked: number[] = []
      for (let cycle = 0; cycle < 10 && (midCommit < 2 || cycle < 3); cycle++) {
        const { acked } = await runAndKill(dir, 2 + (cycle % 3), (cycle * 13) % 40, cycle * 100_000, compact)
        expect(acked.size).toBeGreaterThanOrEqual(2)
        const log = await parquetLog({ features: FEATURES, dir })
        const r = log.recovery
        if (r.tempFiles.length + r.replayedCommits + r.replacedFiles + r.abortedCompactionFiles > 0)
          midCommit++
        const byBatch = new Map<number, FeatureWrite[]>()
        for await (const rows of log.scanRows({ features: Object.keys(FEATURES) })) {
          for (const r of rows) {
            const id = r.version
            let list = byBatch.get(id)
            if (!list) {
              list = []
              byBatch.set(id, list)
            }
            list.push(r)
          }
        }
        // every acknowledged batch (of this and earlier runs) is there, complete
        allAcked.push(...acked)
        for (const id of allAcked) expect(byBatch.get(id)?.length ?? 0, `acked batch ${id}`).toBe(ROWS)
        // nothing partial: an unacknowledged batch is complete or absent (a commit is all files or none)
        for (const [id, list] of byBatch) expect(list.length, `batch ${id} is partial`).toBe(ROWS)
        // no temp files or journals are left behind after the reopen
        const leftovers = (await walk(dir)).filter(
          (f) => f.includes('_tmp-') || (f.endsWith('.json') && !f.startsWith('_skewless')),
        )
        expect(leftovers).toEqual([])
        const total = [...byBatch.values()].reduce((s, l) => s + l.length, 0)
        await log.close()
        const db = await DuckDBInstance.create(':memory:')
        const con = await db.connect()
        const res = await con.runAndReadAll(
          `SELECT count(*)::INTEGER AS n FROM read_parquet('${dir}/**/*.parquet', hive_partitioning=true)`,
        )
        con.closeSync()
        expect((res.getRowObjectsJS()[0] as { n: number }).n).toBe(total)
      }
      expect(midCommit, 'no kill landed inside a commit').toBeGreaterThanOrEqual(1)
    },
    90_000,
  )
})

/** Run the compacting child with a crash point; resolve with the acknowledged batch ids once it died. */
function runCompactor(dir: string, crashAt: string, rollRows: number, firstId: number): Promise<Set<number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...childArgs(join(here, 'fixtures/crash-compactor.ts')), dir, String(rollRows), String(firstId)],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, SKEWLESS_CRASH_AT: crashAt },
      },
    )
    const acked = new Set<number>()
    let stderr = ''
    let stdout = ''
    child.stderr?.on('data', (d) => {
      stderr += String(d)
    })
    child.stdout?.on('data', (d) => {
      stdout += String(d)
    })
    child.on('exit', (code, signal) => {
      for (const line of stdout.split('\n')) if (line.startsWith('ack ')) acked.add(Number(line.slice(4)))
      if (signal !== 'SIGKILL')
        reject(new Error(`compactor exited with ${code}/${signal}, not killed at ${crashAt}: ${stderr}`))
      else resolve(acked)
    })
  })
}

async function duckCount(dir: string): Promise<number> {
  const db = await DuckDBInstance.create(':memory:')
  const con = await db.connect()
  const res = await con.runAndReadAll(
    `SELECT count(*)::INTEGER AS n FROM read_parquet('${dir}/**/*.parquet', hive_partitioning=true)`,
  )
  con.closeSync()
  return (res.getRowObjectsJS()[0] as { n: number }).n
}

describe('crash safety of compaction (the process SIGKILLs itself at an exact step)', () => {
  // 20 files of 40 rows per partition, rollRows 300: the first run of a partition merges 8 files into
  // 2 outputs (300 + 20 rows), the second run the next 8.
  // `recovery`: what a read-only reader of the crashed directory finds (names alone); `reopened`: what
  // the next writer does (the manifest version is the commit point: written → rolled forward).
  const cases = [
    {
      at: 'compact-before-version:1',
      recovery: { replacedFiles: 0, abortedCompactionFiles: 0 },
      reopened: { replacedFiles: 0, abortedCompactionFiles: 0 },
      temps: true,
    },
    {
      at: 'compact-before-rename:1',
      recovery: { replacedFiles: 0, abortedCompactionFiles: 0 },
      reopened: { replacedFiles: 8, abortedCompactionFiles: 0, replayedCommits: 1 },
      temps: false,
    },
    {
      at: 'compact-renamed:1',
      recovery: { replacedFiles: 0, abortedCompactionFiles: 1 },
      reopened: { replacedFiles: 8, abortedCompactionFiles: 0, replayedCommits: 1 },
      temps: false,
    },
    {
      at: 'compact-before-unlink:1',
      recovery: { replacedFiles: 8, abortedCompactionFiles: 0 },
      reopened: { replacedFiles: 8, abortedCompactionFiles: 0 },
      temps: false,
    },
    {
      at: 'compact-unlinked:3',
      recovery: { replacedFiles: 5, abortedCompactionFiles: 0 },
      reopened: { replacedFiles: 5, abortedCompactionFiles: 0 },
      temps: false,
    },
    {
      at: 'compact-unlinked:12',
      recovery: { replacedFiles: 4, abortedCompactionFiles: 0 },
      reopened: { replacedFiles: 4, abortedCompactionFiles: 0 },
      temps: false,
    },
  ]
  it.each(cases)(
    'killed at $at: readers before recovery, and the log after it, hold every row exactly once',
    async (c) => {
      const dir = await tempDir()
      const setup = await parquetLog({ features: BATCH_FEATURES, dir })
      for (let i = 0; i < 40; i++) await setup.append(batch(i)) // one file each, two partitions
      await setup.close()
      const base = Array.from({ length: 40 }, (_, i) => i)

      const acked = await runCompactor(dir, c.at, 300, 1000)
      const mustHave = [...base, ...acked]
      // A reader that opens the crashed directory without recovering it resolves it from names alone.
      const ro = await parquetLog({ features: BATCH_FEATURES, dir, readOnly: true })
      expect(ro.recovery).toMatchObject({ ...c.recovery, removed: false })
      const seenBefore = checkScan(await scanBatches(ro), mustHave)
      expect(seenBefore).toMatchObject({ wrong: [], lost: [] }) // unacknowledged batches: complete or absent
      await ro.close()

      // The next writer finishes (or undoes) the compaction.
      const log = await parquetLog({ features: BATCH_FEATURES, dir })
      expect(log.recovery).toMatchObject({ ...c.reopened, removed: true })
      expect(log.recovery.tempFiles.length > 0).toBe(c.temps || log.recovery.tempFiles.length > 0)
      if (c.temps) expect(log.recovery.tempFiles.length).toBeGreaterThanOrEqual(2)
      const after = checkScan(await scanBatches(log), mustHave)
      // (recovery may roll forward a journaled commit of unacknowledged appends: rows can only grow)
      expect(after).toMatchObject({ wrong: [], lost: [] })
      expect(after.rows).toBeGreaterThanOrEqual(seenBefore.rows)
      const leftovers = (await walk(dir)).filter(
        (f) => f.includes('_tmp-') || (f.endsWith('.json') && !f.startsWith('_skewless')),
      )
      expect(leftovers).toEqual([])
      expect(await duckCount(dir)).toBe(after.rows) // no duplicates left for external readers either
      // and compaction completes from there
      await log.compact({ minFiles: 2 })
      expect(checkScan(await scanBatches(log), mustHave)).toMatchObject({
        wrong: [],
        lost: [],
        rows: after.rows,
      })
      expect(after.rows % BATCH_ROWS).toBe(0)
      await log.close()
    },
    60_000,
  )
})
