import { spawn } from 'node:child_process'
import { mkdir, readdir, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FeatureWrite } from '@skewless/core'
import { afterAll, describe, expect, it } from 'vitest'
import { childArgs } from '../../../scripts/test-children.js'
import { CorruptFileError, ForeignFileError, parquetLog } from '../src/index.js'
import { FEATURES, mixedRecords } from './data.js'
import { removeTempDirs, tempDir } from './helpers.js'

afterAll(removeTempDirs)

const T0 = Date.UTC(2026, 10, 1)
const w = (p: Partial<FeatureWrite>): FeatureWrite => ({
  entity: 'u',
  feature: 'clicks',
  value: 1,
  eventTime: T0,
  version: 0,
  availableTime: T0 + 1,
  outcome: 'applied',
  ...p,
})

async function count(
  log: Awaited<ReturnType<typeof parquetLog>>,
  features = Object.keys(FEATURES),
): Promise<number> {
  let n = 0
  for await (const b of log.scan({ features, includeStale: true })) n += b.numRows
  return n
}

describe('faults', () => {
  it('a truncated file → CorruptFileError naming it; skip mode reads the rest', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ features: FEATURES, dir })
    await log.append(mixedRecords(400))
    const files = await log.listFiles(['clicks'])
    const victim = files[0] as string
    await truncate(victim, 100)
    const err = await (async () => {
      try {
        await count(log)
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(CorruptFileError)
    expect((err as CorruptFileError).code).toBe('corrupt-file')
    expect((err as CorruptFileError).file).toBe(victim)
    expect((err as Error).message).toContain(victim)
    await log.close()
    const seen: string[] = []
    const skipping = await parquetLog({
      features: FEATURES,
      dir,
      readOnly: true,
      onCorruptFile: (e) => seen.push(e.file),
    })
    const n = await count(skipping)
    expect(seen).toEqual([victim])
    expect(n).toBeGreaterThan(300)
    expect(skipping.stats.corruptFilesSkipped).toBe(1)
    // other features are unaffected even in throw mode
    const strict = await parquetLog({ features: FEATURES, dir, readOnly: true })
    expect(await count(strict, ['spend', 'country'])).toBe(200)
  })

  it('a foreign Parquet file or a non-Parquet file (no manifest version lists it) → ForeignFileError naming it', async () => {
    const dir = await tempDir()
    const other = await tempDir()
    const log = await parquetLog({ features: FEATURES, dir })
    await log.append([w({})])
    const pdir = join(dir, 'feature=clicks', 'date=2026-11-01')
    await writeFile(join(pdir, 'notes.parquet'), 'hello, this is not parquet')
    await expect(count(log, ['clicks'])).rejects.toMatchObject({
      code: 'foreign-file',
      file: join(pdir, 'notes.parquet'),
      message: expect.stringMatching(/notes\.parquet is not part of the log.*Move it out/),
    })
    await rename(join(pdir, 'notes.parquet'), join(other, 'x'))
    // a valid Parquet file with another schema
    const { DuckDBInstance } = await import('@duckdb/node-api')
    const db = await DuckDBInstance.create(':memory:')
    const con = await db.connect()
    await con.run(`COPY (SELECT 1 AS a, 'x' AS b) TO '${join(pdir, 'foreign.parquet')}' (FORMAT parquet)`)
    con.closeSync()
    await expect(count(log, ['clicks'])).rejects.toBeInstanceOf(ForeignFileError)
    // skip mode reads around it (counted), as around an unreadable file
    const skipping = await parquetLog({ features: FEATURES, dir, readOnly: true, onCorruptFile: 'skip' })
    expect(await count(skipping, ['clicks'])).toBe(1)
    expect(skipping.stats.corruptFilesSkipped).toBe(1)
    expect(await count(log, ['spend'])).toBe(0)
  })

  it('a file damaged in the middle (magic intact) is reported, and decoders stay usable for the rest', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ features: FEATURES, dir, onCorruptFile: 'skip' })
    for (let i = 0; i < 4; i++) await log.append([w({ entity: `a${i}`, value: i, eventTime: T0 + i })])
    const files = await log.listFiles(['clicks'])
    const b = await readFile(files[1] as string)
    for (let i = 8; i < b.length - 8; i++) b[i] = ((b[i] as number) * 31 + 7) & 255
    await writeFile(files[1] as string, b)
    for (let rep = 0; rep < 3; rep++) {
      const values: unknown[] = []
      for await (const r of log.scanRows({ features: ['clicks'] })) values.push(...r.map((x) => x.value))
      expect(values).toEqual([0, 2, 3])
    }
    expect(log.stats.corruptFilesSkipped).toBe(3)
    const strict = await parquetLog({ features: FEATURES, dir, readOnly: true })
    await expect(count(strict, ['clicks'])).rejects.toMatchObject({ code: 'corrupt-file', file: files[1] })
  })

  it('pruning: files outside [from, to) are not even opened', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ features: FEATURES, dir })
    await log.append([w({ eventTime: T0, availableTime: T0 + 1 })])
    await log.append([
      w({ eventTime: T0 + 3 * 86_400_000, availableTime: T0 + 3 * 86_400_000 + 1, value: 2 }),
    ])
    const [first] = await log.listFiles(['clicks'])
    await truncate(first as string, 10) // corrupt the old one: a pruned scan must not notice
    const rows: FeatureWrite[] = []
    for await (const r of log.scanRows({ features: ['clicks'], from: T0 + 86_400_000 })) rows.push(...r)
    expect(rows.map((r) => r.value)).toEqual([2])
    const avail: FeatureWrite[] = []
    for await (const r of log.scanRows({ features: ['clicks'], by: 'available', from: T0 + 2 }))
      avail.push(...r)
    expect(avail.map((r) => r.value)).toEqual([2])
    // stateAt must consider every file up to t, so here the damaged old file is reported, not skipped silently
    await expect(
      log.stateAt(T0 + 4 * 86_400_000, { features: ['clicks'], by: 'event' }),
    ).rejects.toBeInstanceOf(CorruptFileError)
  })

  it('on open, temp files of an unfinished commit are removed and reported; a complete journal is rolled forward', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ features: FEATURES, dir })
    await log.append(mixedRecords(40))
    await log.close()
    const files = await log.listFiles()
    // Simulate a crash of a log of an earlier version (no manifest: multi-file commits were journaled)
    // between the journal and the renames: move two committed files back to temp names.
    await rm(join(dir, '_skewless'), { recursive: true })
    const journalFiles: [string, string][] = []
    for (const [i, f] of files.slice(0, 2).entries()) {
      const rel = f.slice(dir.length + 1)
      const tmp = join(rel, '..', `_tmp-crash-${i}.tmp`)
      await rename(f, join(dir, tmp))
      journalFiles.push([tmp, rel])
    }
    await mkdir(join(dir, '_journal'), { recursive: true })
    await writeFile(join(dir, '_journal', 'commit-crash-1.json'), JSON.stringify({ files: journalFiles }))
    // ...and an unrelated unfinished commit: a temp file with no journal, and a half-written journal
    const pdir = join(dir, 'feature=clicks', 'date=2026-11-01')
    await writeFile(join(pdir, '_tmp-crash-9.tmp'), 'PAR1 half a file')
    await writeFile(join(dir, '_journal', 'commit-crash-2.json.tmp'), '{"files": [')

    // a read-only open only reports
    const ro = await parquetLog({ features: FEATURES, dir, readOnly: true })
    expect(ro.recovery.removed).toBe(false)
    expect(ro.recovery.tempFiles.length).toBeGreaterThanOrEqual(2)
    await expect(ro.append([w({})])).rejects.toThrow(/readOnly/)

    const again = await parquetLog({ features: FEATURES, dir })
    expect(again.recovery.replayedCommits).toBe(1)
    expect(again.recovery.tempFiles.map((f) => f.split('/').pop()).sort()).toEqual([
      '_tmp-crash-9.tmp',
      'commit-crash-2.json.tmp',
    ])
    expect(await count(again)).toBe(40)
    const all = (await readdir(dir, { recursive: true })).map(String)
    expect(
      all.filter((f) => f.includes('_tmp-') || (f.includes('.json') && !f.startsWith('_skewless'))),
    ).toEqual([])
  })

  it('group commit: concurrent appends share files; rollRows splits big partitions', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ features: FEATURES, dir, rollRows: 50 })
    const ps: Promise<void>[] = []
    for (let i = 0; i < 40; i++) ps.push(log.append([w({ entity: `e${i}`, version: i })]))
    await Promise.all(ps)
    expect(log.stats.commits).toBeLessThan(5)
    await log.append(Array.from({ length: 120 }, (_, i) => w({ entity: `r${i}`, version: i })))
    const files = await log.listFiles(['clicks'])
    expect(files.length).toBeLessThan(10)
    for (const f of files) {
      const size = (await readFile(f)).length
      expect(size).toBeGreaterThan(0)
    }
    expect(await count(log, ['clicks'])).toBe(160)
  })

  it('write() (Sink side) does not wait for the commit, applies backpressure past maxPendingRows, and flush() makes it durable', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ features: FEATURES, dir, maxPendingRows: 10 })
    const r1 = log.write([w({ entity: 'a' })])
    expect(r1).toBeUndefined()
    const r2 = log.write(Array.from({ length: 20 }, (_, i) => w({ entity: `b${i}` })))
    expect(r2).toBeInstanceOf(Promise)
    await r2
    await log.flush()
    expect(await count(log, ['clicks'])).toBe(21)
  })

  it('the parquetjs-lite encoder rejects times before 1970 as invalid-time instead of failing a commit', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ features: FEATURES, dir, encoder: 'parquetjs-lite' })
    await expect(log.append([w({ eventTime: -5 })])).rejects.toMatchObject({
      code: 'invalid-record',
      rejected: { code: 'invalid-time' },
    })
  })

  it('a process that never calls close() still exits (idle workers do not hold it)', async () => {
    const dir = await tempDir()
    const here = dirname(fileURLToPath(import.meta.url))
    const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [...childArgs(join(here, 'fixtures/no-close.ts')), dir], {
        cwd: join(here, '../../..'),
      })
      let out = ''
      child.stdout.on('data', (d) => {
        out += String(d)
      })
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      child.on('exit', (c) => {
        clearTimeout(timer)
        resolve({ code: c, out })
      })
    })
    expect(out).toContain('rows 1')
    expect(code).toBe(0)
  }, 20_000)

  it('rejects bad options and unsafe feature names with InvalidDefinitionError', async () => {
    const dir = await tempDir()
    await expect(parquetLog({ features: { 'a/b': 'double' }, dir })).rejects.toThrow(/partition directory/)
    await expect(parquetLog({ features: FEATURES, dir, rollRows: 0 })).rejects.toThrow(/rollRows/)
    // Counts are whole numbers: 2.5 workers was rounded down to 2 without a word.
    await expect(parquetLog({ features: FEATURES, dir, workers: 2.5 })).rejects.toThrow(
      /workers must be a whole number >= 0, got 2.5/,
    )
    await expect(parquetLog({ features: FEATURES, dir, maxCommitRows: 1000.5 })).rejects.toThrow(
      /maxCommitRows/,
    )
    await expect(parquetLog({ features: FEATURES, dir: '' })).rejects.toThrow(/dir/)
    await expect(parquetLog({ features: FEATURES, dir, encoder: 'x' as never })).rejects.toMatchObject({
      code: 'invalid-definition',
    })
    // An unknown codec was passed on to the encoder, and failed each commit instead of the open.
    await expect(parquetLog({ features: FEATURES, dir, compression: 'gzip' as never })).rejects.toThrow(
      /compression must be one of 'snappy', 'zstd', 'lz4', 'uncompressed'/,
    )
  })
})
