import { readdir } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import type { FeatureWrite } from '@skewless/core'
import { recordBatchToWrites } from '@skewless/offline-log'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { parquetLog, ReadOnlyLogError } from '../src/index.js'
import { parseName } from '../src/layout.js'
import { readSegment } from '../src/read-segment.js'
import { FEATURES, mixedRecords } from './data.js'
import { removeTempDirs, tempDir } from './helpers.js'
import { logRows, multiset } from './rows.js'

afterAll(removeTempDirs)

/** Append `recs` in `chunks` appends, one after the other (one commit, so one file per partition, each). */
async function appendInChunks(
  log: { append(b: FeatureWrite[]): Promise<void> },
  recs: FeatureWrite[],
  chunks: number,
) {
  const size = Math.ceil(recs.length / chunks)
  for (let i = 0; i < recs.length; i += size) await log.append(recs.slice(i, i + size))
}

async function rowsOfFile(path: string): Promise<FeatureWrite[]> {
  const feature = basename(dirname(dirname(path))).slice('feature='.length)
  return (await readSegment(path, feature)).flatMap((b) => recordBatchToWrites(b))
}

const sortedRows = (rows: FeatureWrite[]) =>
  rows.every((b, i) => {
    const a = rows[i - 1]
    if (!a) return true
    return (
      a.entity < b.entity ||
      (a.entity === b.entity &&
        (a.eventTime < b.eventTime ||
          (a.eventTime === b.eventTime &&
            (a.version < b.version || (a.version === b.version && a.availableTime <= b.availableTime)))))
    )
  })

describe('compact()', () => {
  it('merges each partition into sorted files of at most rollRows rows, keeping every row and column', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ features: FEATURES, dir, rollRows: 250 })
    const recs = mixedRecords(2400) // 4 features x 3 days, nulls, stale, tiles, unicode
    await appendInChunks(log, recs, 20)
    const before = await log.listFiles()
    expect(before.length).toBe(20 * 12)
    const rowsBefore = await logRows(log)
    expect(rowsBefore).toEqual(multiset(recs))

    const report = await log.compact()
    const after = await log.listFiles()
    expect(report).toMatchObject({ partitions: 12, filesIn: 240, rows: 2400, leftoversRemoved: 0 })
    expect(report.filesOut).toBe(after.length)
    expect(report.bytesIn).toBeGreaterThan(report.bytesOut) // fewer footers, better encoding
    expect(after.length).toBe(12) // 200 rows per partition, rollRows 250
    expect(await logRows(log)).toEqual(rowsBefore)
    expect(log.stats.compactions).toBe(12)

    // Each output is sorted, within its name bounds, and no larger than rollRows.
    for (const f of after) {
      const rows = await rowsOfFile(f)
      expect(rows.length).toBeLessThanOrEqual(250)
      expect(sortedRows(rows), f).toBe(true)
      const b = parseName(basename(f))?.bounds
      expect(b).toEqual({
        minEventTime: Math.min(...rows.map((r) => r.eventTime)),
        maxEventTime: Math.max(...rows.map((r) => r.eventTime)),
        minAvailableTime: Math.min(...rows.map((r) => r.availableTime)),
        maxAvailableTime: Math.max(...rows.map((r) => r.availableTime)),
      })
    }
    // Nothing else left in the partition directories.
    for (const f of after)
      expect((await readdir(dirname(f))).filter((n) => !n.endsWith('.parquet'))).toEqual([])

    // stateAt gives the same answers on both bases.
    const t = Date.UTC(2026, 10, 2, 12)
    const reopened = await parquetLog({ features: FEATURES, dir: await tempDir() })
    await reopened.append(recs)
    for (const by of ['available', 'event'] as const) {
      const features = Object.keys(FEATURES)
      expect(multiset(await log.stateAt(t, { features, by }))).toEqual(
        multiset(await reopened.stateAt(t, { features, by })),
      )
    }
    await reopened.close()
    await log.close()
  })

  it('splits a partition larger than rollRows and then leaves its full files alone', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ features: { x: 'double' }, dir, rollRows: 100 })
    const T = Date.UTC(2026, 0, 5)
    const mk = (i: number): FeatureWrite => ({
      entity: `e${i % 13}`,
      feature: 'x',
      value: i,
      eventTime: T + i,
      version: 0,
      availableTime: T + i + 5,
      outcome: 'applied',
    })
    const recs = Array.from({ length: 450 }, (_, i) => mk(i))
    await appendInChunks(log, recs, 15) // 15 files of 30 rows
    const r1 = await log.compact()
    // runs of about rollRows rows: 4 files (120 rows) -> 100 + 20, three times, then 3 files (90 rows)
    expect(r1.filesIn).toBe(15)
    expect(await logRows(log)).toEqual(multiset(recs))
    const files1 = await log.listFiles()
    expect(files1.length).toBe(r1.filesOut)
    const full = files1.filter((f) => {
      const c = parseName(basename(f))?.cover
      return c !== undefined && c.part < c.parts
    })
    expect(full.length).toBe(3)
    // Compacting again changes nothing: merging the last two (20 + 90 rows) would not make fewer files.
    expect(await log.compact({ minFiles: 2 })).toMatchObject({ filesIn: 0, filesOut: 0 })
    expect(await log.listFiles()).toEqual(files1)
    // New small files are merged (runs are cut at about rollRows rows: [20, 90] stays, the 4 new
    // files of 10 rows become one); full files are never rewritten.
    const more = Array.from({ length: 40 }, (_, i) => mk(1000 + i))
    await appendInChunks(log, more, 4)
    const r2 = await log.compact({ minFiles: 2 })
    expect(r2).toMatchObject({ filesIn: 4, filesOut: 1, rows: 40 })
    const files2 = await log.listFiles()
    for (const f of full) expect(files2).toContain(f)
    recs.push(...more)
    expect(await logRows(log)).toEqual(multiset(recs))
    for (const f of files2) expect((await rowsOfFile(f)).length).toBeLessThanOrEqual(100)
    await log.close()
  })

  it('leaves partitions with fewer than minFiles files, other features and recent days alone', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ features: FEATURES, dir })
    const recs = mixedRecords(240)
    await appendInChunks(log, recs, 3) // 3 files per partition
    const files = await log.listFiles()
    expect(await log.compact()).toMatchObject({ partitions: 0, filesIn: 0 }) // default minFiles: 4
    expect(await log.listFiles()).toEqual(files)
    const day2 = Date.UTC(2026, 10, 2) // the data spans Nov 1-3: only Nov 1 ends before day 2 starts
    const r = await log.compact({ minFiles: 2, features: ['clicks'], before: day2 })
    expect(r).toMatchObject({ partitions: 1, filesIn: 3, filesOut: 1 })
    const now = await log.listFiles()
    expect(now.filter((f) => f.includes('feature=clicks/date=2026-11-01'))).toHaveLength(1)
    expect(now.filter((f) => !f.includes('feature=clicks/date=2026-11-01'))).toEqual(
      files.filter((f) => !f.includes('feature=clicks/date=2026-11-01')),
    )
    expect(await logRows(log)).toEqual(multiset(recs))
    await log.close()
  })

  it('refuses with typed errors: read-only log, closed log, bad options', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ features: FEATURES, dir })
    await log.append(mixedRecords(40))
    const ro = await parquetLog({ features: FEATURES, dir, readOnly: true })
    await expect(ro.compact()).rejects.toBeInstanceOf(ReadOnlyLogError)
    await expect(ro.compact()).rejects.toMatchObject({ code: 'read-only' })
    await expect(ro.append(mixedRecords(1))).rejects.toMatchObject({ code: 'read-only' })
    await expect(log.compact({ minFiles: 1 })).rejects.toMatchObject({ code: 'invalid-argument' })
    await expect(log.compact({ features: ['nope'] })).rejects.toMatchObject({ code: 'invalid-argument' })
    await expect(log.compact({ before: Number.NaN })).rejects.toMatchObject({ code: 'invalid-argument' })
    const ac = new AbortController()
    ac.abort()
    await expect(log.compact({ signal: ac.signal })).rejects.toMatchObject({ code: 'aborted' })
    await ro.close()
    await log.close()
    await expect(log.compact()).rejects.toMatchObject({ code: 'closed' })
  })

  it('appends made while a compaction runs commit, and are neither lost nor replaced', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ features: FEATURES, dir, rollRows: 400 })
    const recs = mixedRecords(4000)
    await appendInChunks(log, recs.slice(0, 2000), 25)
    const compaction = log.compact({ minFiles: 2 })
    const during: Promise<void>[] = []
    for (let i = 2000; i < 4000; i += 100) during.push(log.append(recs.slice(i, i + 100)))
    const [report] = await Promise.all([compaction, ...during])
    expect(report.rows).toBeGreaterThan(0)
    expect(await logRows(log)).toEqual(multiset(recs))
    // and a second pass compacts what arrived meanwhile
    await log.compact({ minFiles: 2 })
    expect(await logRows(log)).toEqual(multiset(recs))
    await log.close()
    const again = await parquetLog({ features: FEATURES, dir })
    expect(again.recovery).toMatchObject({ tempFiles: [], replacedFiles: 0, abortedCompactionFiles: 0 })
    expect(await logRows(again)).toEqual(multiset(recs))
    await again.close()
  })

  it('property: any records, any append split, any rollRows/minFiles: the row multiset is unchanged', async () => {
    const T = Date.UTC(2026, 3, 1)
    const rec = fc.record({
      entity: fc.constantFrom('a', 'b', 'ç', '😀', ''),
      feature: fc.constantFrom('clicks', 'spend', 'country', 'active'),
      pick: fc.nat(1000),
      eventTime: fc.integer({ min: T - 86_400_000, max: T + 2 * 86_400_000 }),
      version: fc.integer({ min: 0, max: 3 }),
      lag: fc.integer({ min: 0, max: 5000 }),
      stale: fc.boolean(),
      tile: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
      nul: fc.boolean(),
      dbl: fc.oneof(fc.double(), fc.constant(-0)),
    })
    await fc.assert(
      fc.asyncProperty(
        fc.array(rec, { minLength: 1, maxLength: 120 }),
        fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 2, max: 5 }),
        async (raw, cuts, rollRows, minFiles) => {
          const recs: FeatureWrite[] = raw.map((r) => {
            const value =
              r.nul && r.pick % 3 === 0
                ? null
                : r.feature === 'clicks'
                  ? r.pick * 1_000_000_007
                  : r.feature === 'spend'
                    ? r.dbl
                    : r.feature === 'country'
                      ? `c${r.pick % 7}`
                      : r.pick % 2 === 0
            const w: FeatureWrite = {
              entity: r.entity,
              feature: r.feature,
              value,
              eventTime: r.eventTime,
              version: r.version,
              availableTime: r.eventTime + r.lag,
              outcome: r.stale ? 'stale' : 'applied',
            }
            if (r.tile !== undefined) w.tileStart = r.eventTime - r.tile
            return w
          })
          const dir = await tempDir()
          const log = await parquetLog({ features: FEATURES, dir, rollRows, workers: 0 })
          let i = 0
          for (let k = 0; i < recs.length; k++) {
            const n = cuts[k % cuts.length] as number
            await log.append(recs.slice(i, i + n))
            i += n
          }
          const want = multiset(recs)
          expect(await logRows(log)).toEqual(want)
          await log.compact({ minFiles })
          expect(await logRows(log)).toEqual(want)
          await log.compact({ minFiles: 2 })
          expect(await logRows(log)).toEqual(want)
          for (const f of await log.listFiles()) {
            const rows = await rowsOfFile(f)
            expect(rows.length).toBeLessThanOrEqual(Math.max(rollRows, 1))
            expect(sortedRows(rows)).toBe(true)
          }
          await log.close()
        },
      ),
      { numRuns: 25 },
    )
  }, 120_000)
})

describe('compact() rewrites whatever the directory holds, whichever encoder the log was opened with', () => {
  // parquetjs-lite refuses these at append, but a parquet-wasm writer of the same directory stored
  // them, and the encoder is a per-open option: a compaction must carry them over unchanged.
  const T = Date.UTC(1969, 6, 20, 20, 17) // before 1970
  const edge = (i: number): FeatureWrite[] => [
    {
      entity: `e${i}`,
      feature: 'clicks',
      value: -(2 ** 53 - 1),
      eventTime: T + i,
      version: i,
      availableTime: -62_167_219_200_000 + i, // the earliest storable instant (0000-01-01), long before 1970
      outcome: 'applied',
      tileStart: -1 - i,
    },
    {
      entity: `e${i}`,
      feature: 'spend',
      value: i % 2 === 0 ? Number.NaN : -0,
      eventTime: T - i,
      version: 0,
      availableTime: -1,
      outcome: i % 3 === 0 ? 'stale' : 'applied',
    },
  ]

  it.each(['parquet-wasm', 'parquetjs-lite'] as const)(
    'times before 1970 and NaN doubles written by a parquet-wasm writer survive a compaction by a %s log',
    async (encoder) => {
      const dir = await tempDir()
      const recs: FeatureWrite[] = []
      const wasm = await parquetLog({ features: FEATURES, dir, workers: 0 })
      for (let i = 0; i < 4; i++) {
        recs.push(...edge(i))
        await wasm.append(edge(i))
      }
      await wasm.close()
      const log = await parquetLog({ features: FEATURES, dir, workers: 0, encoder })
      const later = mixedRecords(40)
      await log.append(later)
      recs.push(...later)
      expect(await logRows(log)).toEqual(multiset(recs))
      const report = await log.compact({ minFiles: 2 })
      expect(report).toMatchObject({ partitions: 2, filesIn: 8, filesOut: 2 })
      expect(await logRows(log)).toEqual(multiset(recs))
      await log.close()
    },
  )
})
