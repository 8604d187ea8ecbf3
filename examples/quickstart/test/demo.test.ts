/**
 * Issue 14's "done when": `pnpm demo --out <dir>` leaves a log that `skewless inspect` describes and
 * `skewless freshness` charts with both series. Runs the demo and the CLI as a user does, as child
 * processes (tsx, the same commands `pnpm demo` and `pnpm skewless` run), on a temp dir.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { SERIES_COLOURS } from '@skewless/freshness'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const tsx = join(root, 'node_modules', '.bin', 'tsx')
const exec = promisify(execFile)

/** Run a TypeScript entry point of the repo with tsx from the repo root; never rejects. */
async function runTs(
  entry: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(tsx, [entry, ...args], {
      cwd: root,
      maxBuffer: 64 * 1024 * 1024,
      timeout: 150_000,
      env: { ...process.env, NO_COLOR: '1', SKEWLESS_KEEP_DEMO: '' },
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

describe('pnpm demo --out <dir>', () => {
  let out: string
  let demo: { code: number; stdout: string; stderr: string }

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'skewless-demo-test-'))
    demo = await runTs('examples/quickstart/src/main.ts', ['--out', out])
  }, 180_000)
  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true })
  })

  it('runs, lists its features first, prints ISO times, explains freshness and says where its output is', () => {
    expect(demo.stderr).not.toMatch(/Error/)
    expect(demo.code).toBe(0)
    const s = demo.stdout
    const features = s.slice(s.indexOf('== Features'), s.indexOf('== History'))
    for (const [name, aggregate, window] of [
      ['clicks_5m', 'count', 'hopping 5m every 1m'],
      ['spend_1h', 'sum', 'hopping 1h every 5m'],
      ['last_page_10m', 'last', 'hopping 10m every 1m'],
    ] as const) {
      const line = features.split('\n').find((l) => l.includes(`'${name}'`))
      expect(line, name).toBeDefined()
      expect(line).toContain(aggregate)
      expect(line).toContain(window)
      expect(line).toMatch(/['"][a-z][^'"]{15,}['"]\s*│\s*$/) // a description, the last column
    }
    expect(s).toMatch(/Freshness is how long after an event .* readable online/)
    // No epoch milliseconds where a time is printed: the time travel and preview columns are ISO-8601.
    expect(s).toMatch(/'2026-11-02T\d\d:\d\d:\d\d\.\d{3}Z'/)
    expect(s).not.toMatch(/│ 17\d{11} /)
    expect(s).toContain(`== Kept in ${out}`)
    expect(s).toContain(join(out, 'feature-log'))
    expect(s).toMatch(/Skew audit: \d+ served values checked, 0 mismatches/)
  })

  it('previews training rows that have values', () => {
    const s = demo.stdout
    const preview = s.slice(s.indexOf('A few rows with values'), s.indexOf('would have seen'))
    const rows = preview.split('\n').filter((l) => /^│ \d+ /.test(l))
    expect(rows.length).toBe(6)
    for (const r of rows) {
      expect(r).not.toContain('null')
      expect(r).toMatch(/'user-\d\d'\s*│ '2026-11-02T[\d:.]+Z'/)
    }
  })

  it('keeps the training set and the freshness chart', async () => {
    const training = await readFile(join(out, 'training.parquet'))
    expect(training.subarray(0, 4).toString()).toBe('PAR1')
    const rows = Number(/Training set: (\d+) label rows/.exec(demo.stdout)?.[1])
    expect(rows).toBeGreaterThan(100)
    const svg = await readFile(join(out, 'freshness.svg'), 'utf8')
    expect(svg).toContain(`stroke="${SERIES_COLOURS.streaming}"`)
    expect(svg).toContain(`stroke="${SERIES_COLOURS.batch}"`)
  })

  it('skewless inspect describes the log the demo left', async () => {
    const r = await runTs('packages/cli/src/bin.ts', ['inspect', join(out, 'feature-log'), '--json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const summary = JSON.parse(r.stdout) as {
      definitionsFrom: string
      features: {
        name: string
        aggregate: string
        rows: number
        minEventTime: number
        maxEventTime: number
      }[]
      totals: { rows: number }
    }
    expect(summary.definitionsFrom).toBe('manifest')
    expect(summary.features.map((f) => f.name).sort()).toEqual(['clicks_5m', 'last_page_10m', 'spend_1h'])
    for (const f of summary.features) {
      expect(f.rows).toBeGreaterThan(1000)
      expect(f.maxEventTime - f.minEventTime).toBeGreaterThan(3_600_000) // the whole simulated run
    }
    // The demo's compaction line counts the rows it rewrote: the log the CLI reads has exactly those.
    const compacted = Number(/Compaction: .*\((\d+) rows/.exec(demo.stdout)?.[1])
    expect(summary.totals.rows).toBe(compacted)
  })

  it('skewless freshness charts it with both series, one panel per feature', async () => {
    const chart = join(out, 'chart.svg')
    const r = await runTs('packages/cli/src/bin.ts', [
      'freshness',
      join(out, 'feature-log'),
      '--out',
      chart,
      '--json',
    ])
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout) as {
      features: {
        feature: string
        streaming: { count: number; p50: number }
        batch: { count: number; p50: number }
      }[]
    }
    expect(report.features).toHaveLength(3)
    for (const f of report.features) {
      expect(f.streaming.count).toBeGreaterThan(0)
      expect(f.batch.count).toBeGreaterThan(0)
      expect(f.batch.p50).toBeGreaterThan(f.streaming.p50) // the sawtooth is staler than the stream
    }
    const svg = await readFile(chart, 'utf8')
    expect((await stat(chart)).size).toBeGreaterThan(5_000)
    for (const colour of [SERIES_COLOURS.streaming, SERIES_COLOURS.batch]) {
      // one drawn line per feature panel, each with many points
      const lines = [...svg.matchAll(new RegExp(`<path d="([^"]+)"[^>]*stroke="${colour}"`, 'g'))]
      expect(lines.length, colour).toBe(3)
      for (const [, d] of lines) expect((d ?? '').split('L').length).toBeGreaterThan(50)
    }
    for (const name of ['clicks_5m', 'spend_1h', 'last_page_10m']) expect(svg).toContain(name)
  })

  it('refuses an --out directory that already holds a feature log', async () => {
    const r = await runTs('examples/quickstart/src/main.ts', ['--out', out])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('already holds a feature log')
  })
})
