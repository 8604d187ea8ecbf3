/**
 * `stateAt` from state checkpoints (docs/decisions/state-checkpoints.md) answers exactly as reading
 * every file — on random logs with duplicates, stale copies, backfilled history, compaction and torn
 * commits — and reads only the files a checkpoint does not cover.
 */
import { copyFile, readdir, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { FeatureWrite } from '@skewless/core'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { type ParquetLog, parquetLog } from '../src/index.js'
import { removeTempDirs, tempDir } from './helpers.js'

afterAll(removeTempDirs)

const FEATURES = { clicks: 'int64', spend: 'double', tiles: 'int64' } as const
const T0 = Date.UTC(2026, 10, 1, 20)
const DAY = 86_400_000

/** The value of a write follows from its identity: a record logged twice is the same write. */
function rec(
  entity: string,
  feature: keyof typeof FEATURES,
  eventTime: number,
  version: number,
  availableTime: number,
  stale: boolean,
  tile: number,
): FeatureWrite {
  const v = version * 1000 + (eventTime % 997)
  const w: FeatureWrite = {
    entity,
    feature,
    value: feature === 'spend' ? v / 4 : v,
    eventTime,
    version,
    availableTime,
    outcome: stale ? 'stale' : 'applied',
  }
  if (feature === 'tiles') w.tileStart = eventTime - (eventTime % 60_000) - tile * 60_000
  return w
}

const recordArb = fc
  .record({
    entity: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
    feature: fc.constantFrom('clicks', 'spend', 'tiles') as fc.Arbitrary<keyof typeof FEATURES>,
    // Three UTC days: several date= partitions per feature.
    offset: fc.integer({ min: 0, max: 3 * DAY }),
    version: fc.integer({ min: 0, max: 3 }),
    lag: fc.integer({ min: 0, max: 4 * 3_600_000 }),
    stale: fc.integer({ min: 0, max: 7 }).map((x) => x === 0),
    tile: fc.integer({ min: 0, max: 1 }),
  })
  .map((r) => rec(r.entity, r.feature, T0 + r.offset, r.version, T0 + r.offset + r.lag, r.stale, r.tile))

/** A batch: fresh records, plus copies of earlier ones logged again (later, or as stale). */
const step = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      recs: fc.array(recordArb, { minLength: 1, maxLength: 12 }),
      dups: fc.array(fc.tuple(fc.nat(), fc.nat({ max: 600_000 }), fc.boolean()), { maxLength: 3 }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'checkpoint' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'compact' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'torn' as const }) },
)

async function open(dir: string): Promise<ParquetLog> {
  return parquetLog({ dir, features: { ...FEATURES }, workers: 0 })
}

/** Every data file of the log, relative (for a torn commit's leftover). */
async function dataFiles(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true }))
    .map(String)
    .filter((p) => p.endsWith('.parquet') && !p.startsWith('_'))
}

/** A crash while committing: a temp data file and a torn next manifest version. */
async function tornCommit(dir: string): Promise<void> {
  const files = await dataFiles(dir)
  const manifest = join(dir, '_skewless/manifest')
  const versions = (await readdir(manifest)).filter((n) => /^\d{20}\.json$/.test(n)).sort()
  const next = Number((versions.at(-1) as string).slice(0, 20)) + 1
  if (files.length > 0) {
    const src = files[0] as string
    await copyFile(join(dir, src), join(dir, src.slice(0, src.lastIndexOf('/')), '_tmp-zz-1.tmp'))
  }
  await writeFile(join(manifest, `${String(next).padStart(20, '0')}.json`), '{"format":"skewless.man')
}

/** Instants worth asking about: around every record's times, and after all of them. */
function instants(all: FeatureWrite[], pick: number[]): number[] {
  const ts = [T0 + 4 * DAY, T0 - 1]
  for (const i of pick) {
    const r = all[i % Math.max(1, all.length)]
    if (r) ts.push(r.availableTime, r.eventTime - 1)
  }
  return ts
}

/** Queries where the pruned reader read fewer files than the full one (the property is not vacuous). */
let pruned = 0

/** Pruned (the writer, and a reader that uses checkpoints) against a reader that reads every file. */
async function compare(dir: string, log: ParquetLog, ts: number[]): Promise<void> {
  const opts = { dir, features: { ...FEATURES }, workers: 0, readOnly: true }
  const full = await parquetLog({ ...opts, useStateCheckpoints: false })
  const reader = await parquetLog(opts)
  try {
    for (const [i, t] of ts.entries()) {
      for (const by of ['available', 'event'] as const) {
        const entities = i % 2 === 1 ? ['b', 'e'] : undefined
        const o = { features: ['clicks', 'spend', 'tiles'], by, ...(entities ? { entities } : {}) }
        const f0 = full.stats.filesRead
        const r0 = reader.stats.filesRead
        const want = await full.stateAt(t, o)
        expect(await reader.stateAt(t, o)).toEqual(want)
        if (reader.stats.filesRead - r0 < full.stats.filesRead - f0) pruned++
        if (log !== reader) expect(await log.stateAt(t, o)).toEqual(want)
      }
    }
  } finally {
    await full.close()
    await reader.close()
  }
}

describe('stateAt from state checkpoints', () => {
  it('answers as reading every file, on random logs with duplicates, compaction and torn commits', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 3, maxLength: 9 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 2 }),
        async (steps, pick) => {
          const dir = await tempDir()
          let log = await open(dir)
          const all: FeatureWrite[] = []
          try {
            for (const s of steps) {
              if (s.kind === 'append') {
                const batch = [...s.recs]
                for (const [i, later, stale] of s.dups) {
                  const r = all[i % Math.max(1, all.length)]
                  if (r)
                    batch.push({
                      ...r,
                      availableTime: r.availableTime + later,
                      outcome: stale ? 'stale' : r.outcome,
                    })
                }
                await log.append(batch)
                all.push(...batch)
              } else if (s.kind === 'checkpoint') {
                await log.checkpointState()
              } else if (s.kind === 'compact') {
                await log.compact({ minFiles: 2 })
              } else {
                await log.close()
                await tornCommit(dir)
                // Readers of the crashed directory: the torn commit is not part of the log.
                const ro = await parquetLog({ dir, features: { ...FEATURES }, workers: 0, readOnly: true })
                try {
                  await compare(dir, ro, [T0 + 4 * DAY])
                } finally {
                  await ro.close()
                }
                log = await open(dir) // recovery drops the torn version and its temp file
              }
            }
            await compare(dir, log, instants(all, pick))
          } finally {
            await log.close()
          }
        },
      ),
      { numRuns: 6 },
    )
    expect(pruned).toBeGreaterThan(0)
  }, 120_000)

  it('reads the checkpoint and the files added since, not the whole log; a loss of files drops the checkpoints', async () => {
    const dir = await tempDir()
    const log = await open(dir)
    // 30 commits over 10 days: 30 files, a-d written by every commit, x only by commit 26 (of 25, 26, 27 in one day).
    for (let c = 0; c < 30; c++) {
      const t = T0 + c * 8 * 3_600_000
      const rows = ['a', 'b', 'c', 'd'].map((e, i) => rec(e, 'clicks', t + i, c, t + i + 5, false, 0))
      if (c === 26) rows.push(rec('x', 'clicks', t + 4, c, t + 9, false, 0))
      await log.append(rows)
    }
    const built = await log.checkpointState({ features: ['clicks'] })
    expect(built.features[0]).toMatchObject({ feature: 'clicks', files: 30, filesRead: 30, rows: 5 })
    const late = T0 + 11 * DAY
    await log.append([rec('a', 'clicks', late, 99, late + 5, false, 0)])
    const o = { features: ['clicks'] }
    const full = await parquetLog({
      dir,
      features: { ...FEATURES },
      workers: 0,
      readOnly: true,
      useStateCheckpoints: false,
    })
    const f0 = full.stats.filesRead
    const want = await full.stateAt(late + 10, o)
    expect(full.stats.filesRead - f0).toBe(31)
    const r0 = log.stats.filesRead
    expect(await log.stateAt(late + 10, o)).toEqual(want)
    expect(log.stats.filesRead - r0).toBe(1)
    expect(want.map((w) => [w.entity, w.version])).toEqual([
      ['a', 99],
      ['b', 29],
      ['c', 29],
      ['d', 29],
      ['x', 26],
    ])
    // Before the checkpoint's latest record, every file up to t is read, as without checkpoints.
    const mid = T0 + 5 * DAY
    const r1 = log.stats.filesRead
    expect(await log.stateAt(mid, o)).toEqual(await full.stateAt(mid, o))
    expect(log.stats.filesRead - r1).toBeGreaterThan(1)
    // Incremental: the next checkpoint reads only the new file.
    const again = await log.checkpointState({ features: ['clicks'] })
    expect(again.features[0]).toMatchObject({ files: 31, filesRead: 1, rows: 5 })
    await full.close()
    await log.close()

    // A committed file deleted by hand and recorded as lost, then its partition compacted: the
    // output's id range spans the lost file, so only dropping the checkpoints at the loss keeps the
    // lost rows (entity x, written only in commit 26) out of the answer.
    const t26 = T0 + 26 * 8 * 3_600_000
    const lost = (await dataFiles(dir)).find((f) => f.includes(`_e${t26}_`)) as string
    expect(lost).toBeDefined()
    await unlink(join(dir, lost))
    const reopened = await parquetLog({ dir, features: { ...FEATURES }, workers: 0, acceptLostFiles: [lost] })
    await expect(readdir(join(dir, '_skewless/state'))).resolves.toEqual([])
    const compacted = await reopened.compact({ minFiles: 2 })
    expect(compacted.partitions).toBe(10)
    const after = await reopened.stateAt(late + 10, o)
    expect(after.map((w) => w.entity)).toEqual(['a', 'b', 'c', 'd'])
    await reopened.close()
  }, 60_000)
})
