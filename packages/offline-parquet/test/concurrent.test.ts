import { type ChildProcess, spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { childArgs } from '../../../scripts/test-children.js'
import { parquetLog, UnstableListingError } from '../src/index.js'
import { MAX_PINNED } from '../src/segment-files.js'
import type { ParquetLog } from '../src/types.js'
import { BATCH_FEATURES, batch, checkScan, type ScanCheck, scanBatches } from './concurrent.js'
import { removeTempDirs, tempDir } from './helpers.js'

afterAll(removeTempDirs)

const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = join(here, '../../..')

/**
 * The writer side: rounds of appending a few batches (each one file) and compacting with a small
 * rollRows, so outputs come in several parts and partitions are swapped over and over.
 */
async function writeAndCompact(
  log: ParquetLog,
  rounds: number,
  acked: Set<number>,
  between: () => Promise<void> = async () => undefined,
): Promise<{ compactions: number; filesIn: number; multiPart: number }> {
  let id = 0
  let compactions = 0
  let filesIn = 0
  let multiPart = 0
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < 6; k++) {
      const i = id++
      await log.append(batch(i)) // one file each
      acked.add(i)
    }
    const rep = await log.compact({ minFiles: 2 })
    if (rep.filesIn > 0) compactions++
    filesIn += rep.filesIn
    if (rep.filesOut > rep.partitions) multiPart++
    await between()
  }
  return { compactions, filesIn, multiPart }
}

/** Scan in a loop until `done`, checking each scan; the batches acknowledged before a scan started must all be in it. */
async function scanLoop(log: ParquetLog, acked: Set<number>, done: () => boolean): Promise<ScanCheck[]> {
  const out: ScanCheck[] = []
  while (!done()) {
    const mustHave = [...acked]
    out.push(checkScan(await scanBatches(log), mustHave))
  }
  return out
}

describe('readers while compaction swaps files', () => {
  it('scans of the writing log and of a read-only log in this process see every row exactly once', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ features: BATCH_FEATURES, dir, rollRows: 150 })
    const reader = await parquetLog({ features: BATCH_FEATURES, dir, readOnly: true })
    const acked = new Set<number>()
    let done = false
    const writing = writeAndCompact(log, 25, acked).finally(() => {
      done = true
    })
    const [w, own, other] = await Promise.all([
      writing,
      scanLoop(log, acked, () => done),
      scanLoop(reader, acked, () => done),
    ])
    expect(w.compactions).toBe(25)
    expect(w.multiPart).toBeGreaterThan(5)
    for (const scans of [own, other]) {
      expect(scans.length).toBeGreaterThan(5)
      for (const s of scans) expect(s).toMatchObject({ wrong: [], lost: [] })
    }
    const final = checkScan(await scanBatches(reader), acked)
    expect(final).toMatchObject({ batches: 150, wrong: [], lost: [] })
    // stateAt on the same object agrees with a fresh, uncompacted log of the same rows
    await reader.close()
    await log.close()
  }, 120_000)

  it('a reader in another process sees every row exactly once, and never loses a batch it saw', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ features: BATCH_FEATURES, dir, rollRows: 150 })
    await log.append(batch(10_000)) // the directory exists before the reader opens it
    const child: ChildProcess = spawn(
      process.execPath,
      [...childArgs(join(here, 'fixtures/scan-reader.ts')), dir],
      { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] },
    )
    const checks: ScanCheck[] = []
    let stderr = ''
    child.stderr?.on('data', (d) => {
      stderr += String(d)
    })
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    await new Promise<void>((resolve, reject) => {
      let buf = ''
      child.stdout?.on('data', (d) => {
        buf += String(d)
        let nl = buf.indexOf('\n')
        while (nl >= 0) {
          const line = buf.slice(0, nl)
          buf = buf.slice(nl + 1)
          nl = buf.indexOf('\n')
          if (line === 'ready') resolve()
          else checks.push(JSON.parse(line) as ScanCheck)
        }
      })
      child.on('exit', () => reject(new Error(`reader exited early: ${stderr}`)))
    })
    const acked = new Set<number>()
    // Give the reader time for a scan or two between rounds, so its scans overlap many swaps.
    const w = await writeAndCompact(log, 30, acked, () => new Promise((r) => setTimeout(r, 20)))
    child.stdin?.end()
    expect(await exited, stderr).toBe(0)
    expect(w.compactions).toBe(30)
    expect(checks.length).toBeGreaterThan(10)
    for (const c of checks) expect(c).toMatchObject({ wrong: [], lost: [] })
    expect(checks.at(-1)?.batches).toBe(181)
    await log.close()
  }, 120_000)
})

describe('a partition of more files than a scan pins', () => {
  it('is read whole when nothing changes, and fails loudly (never miscounts) if a compaction deletes an unpinned file', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ features: BATCH_FEATURES, dir })
    const n = MAX_PINNED + 8
    for (let i = 0; i < n; i++) await log.append(batch(2 * i).slice(0, 1)) // one file each, one partition
    expect((await log.listFiles()).length).toBe(n)
    let rows = 0
    for await (const b of log.scan({ features: ['clicks'], includeStale: true })) rows += b.numRows
    expect(rows).toBe(n)

    const scan = log.scan({ features: ['clicks'], includeStale: true })[Symbol.asyncIterator]()
    rows = (await scan.next()).value?.numRows ?? 0 // the partition is listed and pinned now
    await log.compact({ minFiles: 2 })
    const err = await (async () => {
      for (let r = await scan.next(); !r.done; r = await scan.next()) rows += r.value.numRows
    })().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UnstableListingError)
    expect(rows).toBeLessThan(n)
    // a new scan reads the compacted partition, every row once
    rows = 0
    for await (const b of log.scan({ features: ['clicks'], includeStale: true })) rows += b.numRows
    expect(rows).toBe(n)
    await log.close()
  }, 120_000)
})
