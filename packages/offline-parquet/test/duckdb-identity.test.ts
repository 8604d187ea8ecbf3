import { DuckDBInstance } from '@duckdb/node-api'
import type { FeatureWrite } from '@skewless/core'
import { afterAll, describe, expect, it } from 'vitest'
import { parquetLog } from '../src/index.js'
import { removeTempDirs, tempDir } from './helpers.js'

afterAll(removeTempDirs)

const T0 = Date.UTC(2026, 10, 1)

/** The view documented in the README ("Duplicates: one write logged twice"). */
const view = (dir: string) => `
  SELECT * FROM read_parquet('${dir}/**/*.parquet', hive_partitioning = true)
  WHERE outcome = 'applied'
  QUALIFY row_number() OVER (
    PARTITION BY entity, feature, tile_start, event_time, version
    ORDER BY available_time) = 1`

async function duck(sql: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:')
  const con = await db.connect()
  try {
    return (await con.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[]
  } finally {
    con.closeSync()
  }
}

const w = (entity: string, i: number, p: Partial<FeatureWrite> = {}): FeatureWrite => ({
  entity,
  feature: 'clicks',
  value: i,
  eventTime: T0 + i * 1000,
  version: 0,
  availableTime: T0 + i * 1000 + 5,
  outcome: 'applied',
  ...p,
})

describe('DuckDB: the documented view counts a write logged twice once', () => {
  it('applied twice (later availableTime), replayed as stale, tiles kept apart: the view equals the log without the copies', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ features: { clicks: 'int64' }, dir })
    const original = [
      ...Array.from({ length: 20 }, (_, i) => w(`u${i % 4}`, i)),
      w('t', 1, { tileStart: T0 }),
      w('t', 1, { tileStart: T0 + 60_000, value: 7 }),
    ]
    await log.append(original)
    // a replay after a crash: some writes logged again, applied (later) or stale
    await log.append(original.slice(0, 8).map((r) => ({ ...r, availableTime: r.availableTime + 1000 })))
    await log.append(
      original
        .slice(8, 12)
        .map((r) => ({ ...r, availableTime: r.availableTime + 2000, outcome: 'stale' as const })),
    )
    await log.append([{ ...(original[20] as FeatureWrite), availableTime: T0 + 9_999 }])
    await log.close()

    const raw = await duck(
      `SELECT count(*)::INTEGER AS n FROM read_parquet('${dir}/**/*.parquet', hive_partitioning = true)`,
    )
    expect(raw[0]?.n).toBe(original.length + 8 + 4 + 1)
    const rows = await duck(
      `SELECT entity, epoch_ms(event_time)::DOUBLE AS et, epoch_ms(available_time)::DOUBLE AS av, value_int64::INTEGER AS v
       FROM (${view(dir)}) ORDER BY entity, et, v`,
    )
    const expected = original
      .map((r) => ({ entity: r.entity, et: r.eventTime, av: r.availableTime, v: r.value }))
      .sort((a, b) =>
        a.entity < b.entity ? -1 : a.entity > b.entity ? 1 : a.et - b.et || (a.v as number) - (b.v as number),
      )
    expect(rows).toEqual(expected)
  })

  it('scan: copies in different files are both read until compact() merges them into one file, after which the earliest copy alone is read', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ features: { clicks: 'int64' }, dir })
    const original = Array.from({ length: 10 }, (_, i) => w(`u${i % 3}`, i))
    await log.append(original)
    await log.append(original.slice(0, 4).map((r) => ({ ...r, availableTime: r.availableTime + 1000 })))
    await log.append(original.slice(2, 6).map((r) => ({ ...r, availableTime: r.availableTime + 2000 })))
    const scanned = async () => {
      const out: FeatureWrite[] = []
      for await (const rows of log.scanRows({ features: ['clicks'] })) out.push(...rows)
      return out
    }
    expect((await scanned()).length).toBe(18)
    const before = await log.stateAt(T0 + 1e6, { features: ['clicks'] })
    expect(await log.compact({ minFiles: 2 })).toMatchObject({ filesIn: 3, filesOut: 1 })
    const after = await scanned()
    expect(after.length).toBe(10)
    expect(after.map((r) => r.availableTime).sort()).toEqual(original.map((r) => r.availableTime).sort())
    expect(await log.stateAt(T0 + 1e6, { features: ['clicks'] })).toEqual(before)
    await log.close()
  })
})
