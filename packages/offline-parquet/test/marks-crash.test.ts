import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { childArgs } from '../../../scripts/test-children.js'
import { parquetLog } from '../src/index.js'
import type { ParquetLog } from '../src/types.js'
import { removeTempDirs, tempDir } from './helpers.js'
import { MARKS_BATCH_ROWS, marksBatch } from './marks-data.js'

afterAll(removeTempDirs)

const here = dirname(fileURLToPath(import.meta.url))
const FEATURES = { x: 'int64', y: 'string' } as const

/** Run the marked writer until it dies (at `crashAt`, or killed after `killAfterAcks` acks); its acks. */
function runWriter(
  dir: string,
  crashAt: string | undefined,
  killAfterAcks = 0,
): Promise<{ acked: number[]; resumed: number }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env }
    if (crashAt) env.SKEWLESS_CRASH_AT = crashAt
    else delete env.SKEWLESS_CRASH_AT
    const child = spawn(process.execPath, [...childArgs(join(here, 'fixtures/crash-marks.ts')), dir], {
      cwd: join(here, '../../..'),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const acked: number[] = []
    let resumed = -1
    let out = ''
    let err = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.stderr.on('data', (d) => {
      err += String(d)
    })
    child.stdout.on('data', (d) => {
      out += String(d)
      const lines = out.split('\n')
      out = lines.pop() as string
      for (const l of lines) {
        if (l.startsWith('resume ')) resumed = Number(l.slice(7))
        if (l.startsWith('ack ')) acked.push(Number(l.slice(4)))
      }
      if (killAfterAcks > 0 && acked.length >= killAfterAcks) child.kill('SIGKILL')
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      if (signal !== 'SIGKILL') reject(new Error(`writer exited with ${code}/${signal}: ${err}`))
      else resolve({ acked, resumed })
    })
  })
}

/** Rows per batch id in the log. */
async function rowsByBatch(log: ParquetLog): Promise<Map<number, number>> {
  const out = new Map<number, number>()
  for await (const rows of log.scanRows({ features: Object.keys(FEATURES) }))
    for (const r of rows) out.set(r.version, (out.get(r.version) ?? 0) + 1)
  return out
}

/** The marks say `changelog = k`: every batch <= k is there whole, none after k is. */
async function expectAgreement(log: ParquetLog, acked: readonly number[]): Promise<number> {
  const marks = await log.readMarks()
  const k = typeof marks.changelog === 'number' ? marks.changelog : -1
  expect(marks.checkpoint?.sources, 'the checkpoint mark moves with the changelog mark').toEqual(
    k < 0 ? undefined : { s: k },
  )
  for (const id of acked)
    expect(id, 'an acknowledged marked append is covered by the marks').toBeLessThanOrEqual(k)
  const rows = await rowsByBatch(log)
  for (let id = 0; id <= k; id++) expect(rows.get(id) ?? 0, `batch ${id}`).toBe(marksBatch(id).length)
  for (const [id] of rows)
    expect(id, `batch ${id} is visible but after the marks (${k})`).toBeLessThanOrEqual(k)
  return k
}

describe('marks and rows never disagree after a SIGKILL (appendMarked, three in flight, multi-file commits)', () => {
  it.each(['commit-before-version:4', 'commit-version-written:3', 'commit-renamed:2', undefined])(
    'killed at %s: a reader of the crashed directory and the next writer see marks that cover exactly the rows; the writer resumes from them',
    async (crashAt) => {
      const dir = await tempDir()
      let k = -1
      const acked: number[] = []
      for (let cycle = 0; cycle < 2; cycle++) {
        const run = await runWriter(dir, crashAt, crashAt ? 0 : 6 + cycle * 3)
        expect(run.resumed).toBe(k + 1)
        acked.push(...run.acked)
        // A reader before recovery: the marks never run ahead of the rows it can see.
        const ro = await parquetLog({ features: FEATURES, dir, readOnly: true })
        const seen = await expectAgreement(ro, [])
        await ro.close()
        const log = await parquetLog({ features: FEATURES, dir })
        k = await expectAgreement(log, acked)
        expect(k).toBeGreaterThanOrEqual(seen)
        await log.close()
      }
      expect(k, 'the runs committed something').toBeGreaterThan(0)
      expect(MARKS_BATCH_ROWS).toBeGreaterThan(0)
    },
    90_000,
  )
})
