import { type ChildProcess, spawn } from 'node:child_process'
import { readdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DuckDBInstance } from '@duckdb/node-api'
import type { FeatureWrite } from '@skewless/core'
import { afterAll, describe, expect, it } from 'vitest'
import { parquetLog } from '../src/index.js'
import { removeTempDirs, tempDir } from './helpers.js'

afterAll(removeTempDirs)

const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = join(here, '../../..')
const ROWS = 4000
const FEATURES = { clicks: 'int64', spend: 'double', country: 'string', active: 'bool' } as const

/** Start the writer, collect acknowledged batch ids, SIGKILL it `delayMs` after the `afterAcks`-th ack. */
function runAndKill(
  dir: string,
  afterAcks: number,
  delayMs: number,
): Promise<{ acked: Set<number>; recovered: number }> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', join(here, 'fixtures/crash-writer.ts'), dir, String(ROWS)],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    const acked = new Set<number>()
    let recovered = -1
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
        // An ack line printed before the kill is an acknowledgement, even if read after it.
        if (line.startsWith('ack ')) acked.add(Number(line.slice(4)))
        if (!killing && acked.size >= afterAcks) {
          killing = true
          setTimeout(() => child.kill('SIGKILL'), delayMs)
        }
      }
    })
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL')
        reject(new Error(`writer exited with ${code}/${signal} before the kill: ${stderr}`))
      else resolve({ acked, recovered })
    })
  })
}

async function walk(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String)
}

describe('crash safety (SIGKILL of the writing process)', () => {
  it('every acknowledged record survives, nothing partial is visible, DuckDB still reads the directory', async () => {
    const dir = await tempDir()
    // Two crashes in a row: the second writer starts by recovering from the first.
    for (const [afterAcks, delayMs] of [
      [4, 7],
      [3, 23],
    ] as const) {
      const { acked } = await runAndKill(dir, afterAcks, delayMs)
      expect(acked.size).toBeGreaterThanOrEqual(afterAcks)
      const log = await parquetLog({ features: FEATURES, dir })
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
      // every acknowledged batch of this run is complete
      for (const id of acked)
        expect(byBatch.get(id)?.length ?? 0, `acked batch ${id}`).toBeGreaterThanOrEqual(ROWS)
      // nothing partial: each visible batch is complete (one commit is all files or none); the
      // second run reuses batch ids, so a batch id seen twice holds exactly two complete copies
      for (const [id, list] of byBatch) expect(list.length % ROWS, `batch ${id} is partial`).toBe(0)
      // no temp files or journals are left behind after the reopen
      const leftovers = (await walk(dir)).filter((f) => f.includes('_tmp-') || f.endsWith('.json'))
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
  }, 60_000)
})
