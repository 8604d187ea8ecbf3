import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Resvg } from '@resvg/resvg-js'
import { writeParquet } from '@skewless/asof-join'
import { defineFeatures, type FeatureWrite, last, unbounded } from '@skewless/core'
import { SERIES_COLOURS } from '@skewless/freshness'
import { parquetLog } from '@skewless/offline-parquet'
import { tableFromArrays, tableFromIPC } from 'apache-arrow'
import * as pw from 'parquet-wasm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MIN, makeLog, parquetFiles, skewless, T0 } from './cli-helpers.js'

let tmp: string
let logDir: string
let writes: FeatureWrite[]

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'skewless-cli-'))
  logDir = join(tmp, 'feature-log')
  writes = await makeLog(logDir)
})
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true })
})

/** Pixels of the PNG rendering of an SVG within a small distance of `hex`. */
function countColour(svg: string, hex: string): number {
  const px = new Resvg(svg, { background: 'white' }).render().pixels
  const [r, g, b] = [1, 3, 5].map((o) => Number.parseInt(hex.slice(o, o + 2), 16)) as [number, number, number]
  let n = 0
  for (let i = 0; i < px.length; i += 4) {
    if (
      Math.abs((px[i] as number) - r) +
        Math.abs((px[i + 1] as number) - g) +
        Math.abs((px[i + 2] as number) - b) <
      40
    )
      n++
  }
  return n
}

describe('skewless inspect', () => {
  it('describes the features, partitions, files, rows, time range and bytes of a log', async () => {
    const text = await skewless(['inspect', logDir])
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/clicks\s+int64/)
    expect(text.stdout).toMatch(/spend\s+double/)
    expect(text.stdout).toContain('2026-11-02T09:00:00.000Z')
    const json = await skewless(['inspect', logDir, '--json'])
    expect(json.code).toBe(0)
    const s = JSON.parse(json.stdout)
    // A log written with a manifest records its definitions there; an older one only in its files.
    const hasManifest = existsSync(join(logDir, '_skewless', 'manifest'))
    expect(s.definitionsFrom).toBe(hasManifest ? 'manifest' : 'file-metadata')
    expect(s.totals.rows).toBe(writes.length)
    expect(s.totals.files).toBe((await parquetFiles(logDir)).length)
    expect(s.totals.files).toBeGreaterThanOrEqual(12) // 6 commits × 2 features
    const clicks = s.features.find((f: { name: string }) => f.name === 'clicks')
    expect(clicks).toMatchObject({ valueType: 'int64', partitions: 1, rows: writes.length / 2 })
    expect(clicks.minEventTime).toBe(T0)
    expect(clicks.maxAvailableTime).toBe(T0 + 179 * MIN + 4000 + 2000)
  })

  it('fails with exit 1 and a clear message for a wrong path or a directory that is no log', async () => {
    const missing = await skewless(['inspect', join(tmp, 'nope')])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('no such file or directory')
    const empty = join(tmp, 'empty')
    await mkdir(empty, { recursive: true })
    const notLog = await skewless(['inspect', empty])
    expect(notLog.code).toBe(1)
    expect(notLog.stderr).toContain('not a Skewless offline log')
  })
})

describe('skewless inspect of a log written from definitions', () => {
  it("shows each feature's TTL, description, owner and tags from the manifest", async () => {
    const dir = join(tmp, 'described')
    const defs = defineFeatures({
      entity: (e: { account: string; ts: number; amount: number }) => e.account,
      eventTime: (e) => e.ts,
      features: {
        last_amount: {
          window: unbounded(),
          aggregate: last('double'),
          value: (e) => e.amount,
          ttl: '90m',
          description: 'amount of the last transaction',
          owner: 'fraud-team',
          tags: ['fraud', 'pii'],
        },
        last_plain: { window: unbounded(), aggregate: last('double'), value: (e) => e.amount },
      },
    })
    const log = await parquetLog({ dir, features: defs.describe(), workers: 0 })
    await log.append([
      {
        entity: 'a',
        feature: 'last_amount',
        value: 1,
        eventTime: T0,
        availableTime: T0 + 1,
        version: 1,
        outcome: 'applied',
      },
      {
        entity: 'a',
        feature: 'last_plain',
        value: 1,
        eventTime: T0,
        availableTime: T0 + 1,
        version: 1,
        outcome: 'applied',
      },
    ])
    await log.close()
    const text = await skewless(['inspect', dir])
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/\bttl\b/)
    expect(text.stdout).toMatch(/last_amount\s+double\s+last, unbounded\s+90m\s/)
    expect(text.stdout).toMatch(/last_plain\s+double\s+last, unbounded\s+-\s/)
    expect(text.stdout).toContain(
      'last_amount: amount of the last transaction; owner fraud-team; tags fraud, pii',
    )
    expect(text.stdout).not.toMatch(/^last_plain:/m)
    const json = JSON.parse((await skewless(['inspect', dir, '--json'])).stdout)
    expect(json.features.find((f: { name: string }) => f.name === 'last_amount')).toMatchObject({
      ttlMs: 90 * MIN,
      description: 'amount of the last transaction',
      owner: 'fraud-team',
      tags: ['fraud', 'pii'],
    })
  })
})

describe('a log of a newer format', () => {
  it('is refused with exit 1 when a manifest file is of a newer format', async () => {
    const dir = join(tmp, 'newer-manifest')
    await makeLog(dir)
    const mdir = join(dir, '_skewless', 'manifest')
    await mkdir(mdir, { recursive: true })
    await writeFile(
      join(mdir, `${'9'.repeat(20)}.json`),
      JSON.stringify({ format: 'skewless.manifest/2', version: 99 }),
    )
    const r = await skewless(['inspect', dir])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(
      /skewless\.manifest\/2, newer than the skewless\.manifest\/1 this skewless reads: upgrade/,
    )
  })

  it('is refused with exit 1 when its Parquet files say a newer skewless.format', async () => {
    const dir = join(tmp, 'newer-files')
    await makeLog(dir)
    for (const file of await parquetFiles(dir)) {
      const meta = new Map([
        ['skewless.format', '2'],
        ['skewless.value_type', 'double'],
      ])
      const table = pw.readParquet(await readFile(file))
      const props = new pw.WriterPropertiesBuilder().setKeyValueMetadata(meta).build()
      await writeFile(file, pw.writeParquet(table, props))
    }
    const r = await skewless(['freshness', dir, '--out', join(tmp, 'never.svg')])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/in format 2, newer than the 1 this skewless reads/)
  })
})

describe('skewless freshness', () => {
  it('writes an SVG chart with the streaming, batch and served series, and prints the percentiles', async () => {
    // What a reader served: u0's clicks, read 30 s after each minute's value (available after 2 s).
    const servedPath = join(tmp, 'served-for-chart.parquet')
    const minutes = Array.from({ length: 90 }, (_, i) => 2 * i)
    await writeParquet(
      tableFromArrays({
        entity: minutes.map(() => 'u0'),
        feature: minutes.map(() => 'clicks'),
        value_int64: minutes.map((m) => BigInt(m % 7)),
        event_time: new Float64Array(minutes.map((m) => T0 + m * MIN)),
        read_time: new Float64Array(minutes.map((m) => T0 + m * MIN + 30_000)),
      }),
      servedPath,
    )
    const out = join(tmp, 'chart.svg')
    const r = await skewless([
      'freshness',
      logDir,
      '--out',
      out,
      '--batch-every',
      '30m',
      '--served',
      servedPath,
      '--json',
    ])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report.batchEveryMs).toBe(30 * MIN)
    const clicks = report.features.find((f: { feature: string }) => f.feature === 'clicks')
    // Each entity gets a value every minute, readable 2 s later: never older than ~62 s when streamed.
    expect(clicks.streaming.max).toBeLessThanOrEqual(62_000)
    expect(clicks.batch.max).toBeGreaterThan(29 * MIN)
    expect(clicks.served).toMatchObject({ count: 90, max: 30_000, mean: 30_000 })
    const svg = await readFile(out, 'utf8')
    expect(countColour(svg, SERIES_COLOURS.streaming)).toBeGreaterThan(1000)
    expect(countColour(svg, SERIES_COLOURS.batch)).toBeGreaterThan(1000)
    expect(countColour(svg, SERIES_COLOURS.served)).toBeGreaterThan(300)
  })

  it('draws a progress bar on stderr when asked, and exits 2 on a bad duration or a missing --out', async () => {
    const r = await skewless(['freshness', logDir, '--out', join(tmp, 'p.svg')], { SKEWLESS_PROGRESS: '1' })
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/freshness \[#+\] 100%/)
    const bad = await skewless(['freshness', logDir, '--out', join(tmp, 'x.svg'), '--batch-every', 'soon'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('"soon" is not a positive duration')
    const noOut = await skewless(['freshness', logDir])
    expect(noOut.code).toBe(2)
    expect(noOut.stderr).toContain("required option '--out <file.svg>' not specified")
  })
})

describe('skewless join and audit', () => {
  it('joins label rows as of their time into a Parquet training set', async () => {
    const labelsPath = join(tmp, 'labels.parquet')
    const time = [T0 + 10 * MIN + 500, T0 + 10 * MIN + 2500, T0 + 100 * MIN + 10_000]
    await writeParquet(
      tableFromArrays({ entity: ['u0', 'u0', 'u3'], time: new Float64Array(time), y: [1, 0, 1] }),
      labelsPath,
    )
    const out = join(tmp, 'training.parquet')
    const r = await skewless(
      ['join', logDir, '--labels', labelsPath, '--out', out, '--features', 'clicks,spend'],
      {
        SKEWLESS_PROGRESS: '1',
      },
    )
    expect(r.stderr).toMatch(/join \[#+\] 100%/)
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('3 label rows')
    const t = tableFromIPC(pw.readParquet(await readFile(out)).intoIPCStream())
    expect(t.schema.fields.map((f) => f.name)).toEqual(['entity', 'time', 'y', 'clicks', 'spend'])
    // 09:10:00.5: minute 10's value is not readable until 09:10:02, so minute 9's is served.
    expect(Number(t.get(0)?.clicks)).toBe(9 % 7)
    expect(Number(t.get(1)?.clicks)).toBe(10 % 7)
    expect(t.get(2)?.spend).toBe(100 * 1.5 + 3)
  })

  it('passes an audit of values served as the log says (exit 0) and fails one with a skewed value (exit 1)', async () => {
    const served = (spend: number) => ({
      entity: ['u1', 'u2'],
      feature: ['spend', 'clicks'],
      value_double: [spend, null],
      value_int64: [null, BigInt(20 % 7)],
      event_time: new Float64Array([T0 + 50 * MIN + 1000, T0 + 20 * MIN + 2000]),
      read_time: new Float64Array([T0 + 50 * MIN + 30_000, T0 + 20 * MIN + 30_000]),
    })
    const okPath = join(tmp, 'served-ok.parquet')
    await writeParquet(tableFromArrays(served(50 * 1.5 + 1)), okPath)
    const ok = await skewless(['audit', logDir, '--served', okPath])
    expect(ok.stderr).toBe('')
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain('checked 2 served values: 2 match the log, 0 mismatches')
    const skewPath = join(tmp, 'served-skew.parquet')
    await writeParquet(tableFromArrays(served(999)), skewPath)
    const skew = await skewless(['audit', logDir, '--served', skewPath])
    expect(skew.code).toBe(1)
    expect(skew.stderr).toContain('1 of 2 served values differ from the log: training-serving skew')
    const missing = await skewless(['audit', logDir, '--served', join(tmp, 'none.parquet')])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('served values')
  })
})

describe('skewless compact', () => {
  it('merges the small files of each partition, leaving the rows as they were', async () => {
    const before = (await parquetFiles(logDir)).length
    const r = await skewless(['compact', logDir, '--json'], { SKEWLESS_PROGRESS: '1' })
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/compact \[#+\] 100%/)
    const report = JSON.parse(r.stdout)
    expect(report).toMatchObject({ partitions: 2, filesIn: before, filesOut: 2, rows: writes.length })
    const s = JSON.parse((await skewless(['inspect', logDir, '--json'])).stdout)
    expect(s.totals).toMatchObject({ files: 2, rows: writes.length })
  })
})

describe('--help', () => {
  it.each(['inspect', 'compact', 'freshness', 'join', 'audit'])(
    '%s --help prints its usage and exits 0',
    async (cmd) => {
      const r = await skewless([cmd, '--help'])
      expect(r.code).toBe(0)
      expect(r.stdout).toContain(`Usage: skewless ${cmd} [options] <log>`)
      expect(r.stdout).toContain('Exit codes: 0 ok, 1 failure')
    },
  )

  it('an unknown command or option is a usage error (exit 2)', async () => {
    expect((await skewless(['bogus'])).code).toBe(2)
    expect((await skewless(['inspect', logDir, '--nope'])).code).toBe(2)
    expect((await skewless([])).code).toBe(2)
  })
})
