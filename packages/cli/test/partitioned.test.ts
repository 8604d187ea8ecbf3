/**
 * A partitioned log — a root of `partition=<n>` logs, one per stream partition, as
 * `@skewless/worker` writes it — read by the CLI as one log: inspect counts every partition's rows,
 * join and audit find entities of every partition, and compact (one writer per partition) is
 * refused with what to run instead.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeParquet } from '@skewless/asof-join'
import type { FeatureWrite } from '@skewless/core'
import { parquetLog } from '@skewless/offline-parquet'
import { tableFromArrays, tableFromIPC } from 'apache-arrow'
import * as pw from 'parquet-wasm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { run } from '../src/index.js'
import { FEATURES, MIN, makeLog, T0 } from './cli-helpers.js'

/** `skewless ...args` in this process (the spawned executable is covered by cli.test.ts). */
async function skewless(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const code = await run(args, {
    stdout: (t) => {
      stdout += t
    },
    stderr: (t) => {
      stderr += t
    },
    progress: false,
  })
  return { code, stdout, stderr }
}

let tmp: string
let root: string
let writes: FeatureWrite[]

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'skewless-cli-partitioned-'))
  writes = await makeLog(join(tmp, 'single'))
  root = join(tmp, 'clicks-log')
  // u0, u2, u4 in partition 0; u1, u3 in partition 1.
  for (const p of [0, 1]) {
    const log = await parquetLog({ dir: join(root, `partition=${p}`), features: FEATURES, workers: 0 })
    await log.append(writes.filter((w) => Number(w.entity.slice(1)) % 2 === p))
    await log.close()
  }
})
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true })
})

it('inspect counts the rows of every partition', async () => {
  const r = await skewless(['inspect', root, '--json'])
  expect(r.code, r.stderr).toBe(0)
  const s = JSON.parse(r.stdout)
  expect(s.features.map((f: { name: string }) => f.name)).toEqual(['clicks', 'spend'])
  expect(s.totals.rows).toBe(writes.length)
  expect(s.features.map((f: { rows: number }) => f.rows)).toEqual([writes.length / 2, writes.length / 2])
})

it('join and audit read entities of every partition', async () => {
  const labelsPath = join(tmp, 'labels.parquet')
  const time = [T0 + 10 * MIN + 2500, T0 + 100 * MIN + 10_000]
  await writeParquet(tableFromArrays({ entity: ['u0', 'u3'], time: new Float64Array(time) }), labelsPath)
  const out = join(tmp, 'training.parquet')
  const r = await skewless(['join', root, '--labels', labelsPath, '--out', out, '--features', 'clicks,spend'])
  expect(r.code, r.stderr).toBe(0)
  const t = tableFromIPC(pw.readParquet(await readFile(out)).intoIPCStream())
  // u0 from partition 0, u3 from partition 1 (values as makeLog writes them).
  expect(Number(t.get(0)?.clicks)).toBe(10 % 7)
  expect(t.get(1)?.spend).toBe(100 * 1.5 + 3)

  const servedPath = join(tmp, 'served.parquet')
  await writeParquet(
    tableFromArrays({
      entity: ['u1', 'u2'],
      feature: ['spend', 'clicks'],
      value_double: [50 * 1.5 + 1, null],
      value_int64: [null, BigInt(20 % 7)],
      event_time: new Float64Array([T0 + 50 * MIN + 1000, T0 + 20 * MIN + 2000]),
      read_time: new Float64Array([T0 + 50 * MIN + 30_000, T0 + 20 * MIN + 30_000]),
    }),
    servedPath,
  )
  const audit = await skewless(['audit', root, '--served', servedPath])
  expect(audit.code, audit.stderr).toBe(0)
  expect(audit.stdout).toContain('checked 2 served values: 2 match the log, 0 mismatches')
})

it('compact refuses a partitioned root and names the directories to run it on', async () => {
  const r = await skewless(['compact', root])
  expect(r.code).toBe(1)
  expect(r.stderr).toContain(join(root, 'partition=<n>'))
})
