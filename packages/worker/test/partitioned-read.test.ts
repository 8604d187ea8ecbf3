/**
 * A partitioned log (`<root>/partition=<n>`, one Parquet log per stream partition, as the worker
 * writes it) reads as one: scans, `stateAt`, the as-of join, the skew audit and DuckDB give over the
 * partitions exactly what they give over one log holding every record.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { asOfJoin, type ServedValueRecord, skewAudit } from '@skewless/asof-join'
import type { FeatureWrite } from '@skewless/core'
import {
  openPartitionedLog,
  type ParquetLog,
  type PartitionedLog,
  parquetLog,
} from '@skewless/offline-parquet'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { partitionLogDir } from '../src/index.js'

const FEATURES = { clicks: 'int64', amount: 'double', page: 'string' } as const
const PARTS = 3
const ENTITIES = 30
const T0 = 1_790_000_000_000
let dir: string
let single: ParquetLog
let union: PartitionedLog
const records: FeatureWrite[] = []

function mix(i: number): number {
  let x = (i + 0x9e3779b9) >>> 0
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0
  return (x ^ (x >>> 13)) >>> 0
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skewless-partitioned-'))
  let i = 0
  for (let e = 0; e < ENTITIES; e++) {
    for (let k = 0; k < 20; k++) {
      const eventTime = T0 + k * 60_000 + (mix(i) % 30_000)
      const availableTime = eventTime + 100 + (mix(i + 1) % 5000)
      const base = { entity: `e${e}`, eventTime, availableTime, version: 0 }
      const outcome = mix(i + 2) % 10 === 0 ? ('stale' as const) : ('applied' as const)
      records.push({ ...base, feature: 'clicks', value: k + 1, outcome })
      records.push({ ...base, feature: 'amount', value: (mix(i + 3) % 10_000) / 100, outcome: 'applied' })
      records.push({ ...base, feature: 'page', value: `p${mix(i + 4) % 5}`, outcome: 'applied' })
      i++
    }
  }
  single = await parquetLog({ dir: join(dir, 'single'), features: FEATURES, workers: 0 })
  await single.append(records)
  const root = join(dir, 'partitioned')
  for (let p = 0; p < PARTS; p++) {
    const log = await parquetLog({ dir: partitionLogDir(root, p), features: FEATURES, workers: 0 })
    const mine = records.filter((r) => Number(r.entity.slice(1)) % PARTS === p)
    // Several commits per partition, as a worker makes.
    await log.append(mine.slice(0, mine.length / 2))
    await log.append(mine.slice(mine.length / 2))
    await log.close()
  }
  union = await openPartitionedLog({ root, features: FEATURES, workers: 0 })
})
afterAll(async () => {
  await union?.close()
  await single?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const key = (r: FeatureWrite) =>
  `${r.feature}|${r.entity}|${r.eventTime}|${r.version}|${r.availableTime}|${r.outcome}|${String(r.value)}`
async function rows(log: { scanRows: PartitionedLog['scanRows'] }): Promise<string[]> {
  const out: string[] = []
  for await (const b of log.scanRows({ features: Object.keys(FEATURES) })) for (const r of b) out.push(key(r))
  return out.sort()
}

it('finds every partition and scans them as one log', async () => {
  expect(union.partitions).toEqual([0, 1, 2])
  expect(await rows(union)).toEqual(await rows(single))
  const d = await union.describe()
  expect(d.rows).toBe(records.length)
  expect(d.features.map((f) => f.name).sort()).toEqual(['amount', 'clicks', 'page'])
  await expect(union.append(records.slice(0, 1))).rejects.toMatchObject({ code: 'read-only' })
})

it('stateAt over the partitions equals stateAt over one log, by availability and by event time', async () => {
  for (const t of [T0 - 1, T0 + 90_000, T0 + 600_000, T0 + 3_600_000]) {
    for (const by of ['available', 'event'] as const) {
      const a = await union.stateAt(t, { features: Object.keys(FEATURES), by })
      const b = await single.stateAt(t, { features: Object.keys(FEATURES), by })
      expect(a.map(key)).toEqual(b.map(key))
    }
  }
  expect((await union.stateAt(T0 + 3_600_000, { features: ['clicks'] })).length).toBe(ENTITIES)
})

it('the as-of join and the skew audit read every partition', async () => {
  const labels = Array.from({ length: 200 }, (_, i) => ({
    entity: `e${mix(i) % (ENTITIES + 2)}`, // two entities no partition has
    time: T0 + (mix(i + 99) % 1_300_000),
  }))
  const features = ['clicks', 'amount', 'page']
  const text = (r: unknown) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : v))
  const a = (await asOfJoin(labels, union, { features })).toArray().map(text)
  const b = (await asOfJoin(labels, single, { features })).toArray().map(text)
  expect(a).toEqual(b)
  // Rows of every partition joined (not only the first partition's entities).
  const joined = (await asOfJoin(labels, union, { features })).toArray().filter((r) => r.clicks !== null)
  expect(new Set(joined.map((r) => Number(String(r.entity).slice(1)) % PARTS))).toEqual(new Set([0, 1, 2]))

  // Served values as the log says they were, one of them wrong: the audit finds that one only.
  const at = T0 + 700_000
  const state = await single.stateAt(at, { features })
  const served: ServedValueRecord[] = state.map((r) => ({
    entity: r.entity,
    feature: r.feature,
    value: r.value,
    eventTime: r.eventTime,
    readTime: at,
  }))
  const wrong = served.findIndex((s) => s.feature === 'clicks' && s.entity === 'e17')
  served[wrong] = { ...(served[wrong] as ServedValueRecord), value: 999 }
  const report = await skewAudit(served, union)
  expect(report.checked).toBe(served.length)
  expect(report.mismatches.map((m) => [m.entity, m.feature])).toEqual([['e17', 'clicks']])
})

it('DuckDB reads every partition: the listed files, and the Hive glob with a partition column', async () => {
  const db = await DuckDBInstance.create(':memory:')
  const con = await db.connect()
  try {
    const files = await union.listFiles()
    const list = files.map((f) => `'${f.replaceAll("'", "''")}'`).join(', ')
    const listed = (
      await con.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet([${list}])`)
    ).getRowObjectsJS()
    expect(listed).toEqual([{ n: records.length }])
    const root = union.root.replaceAll("'", "''")
    const byPartition = (
      await con.runAndReadAll(
        `SELECT partition::INTEGER AS p, count(*)::INTEGER AS n, count(DISTINCT entity)::INTEGER AS e
         FROM read_parquet('${root}/**/*.parquet', hive_partitioning = true) GROUP BY 1 ORDER BY 1`,
      )
    ).getRowObjectsJS()
    expect(byPartition).toEqual(
      [0, 1, 2].map((p) => {
        const mine = records.filter((r) => Number(r.entity.slice(1)) % PARTS === p)
        return { p, n: mine.length, e: new Set(mine.map((r) => r.entity)).size }
      }),
    )
  } finally {
    con.closeSync()
  }
})
