/**
 * Renders docs/img/freshness.png from the quickstart demo's log: runs the demo keeping its temp
 * directory (SKEWLESS_KEEP_DEMO), charts its feature log with a batch materialization every 30 min,
 * rasterizes the SVG with resvg and removes the demo's directory.
 *
 *   npx tsx packages/freshness/scripts/demo-chart.ts [out.png] [--log <kept demo dir>]   (from the repository root)
 *
 * With `--log`, charts a demo directory kept earlier (`SKEWLESS_KEEP_DEMO=1 pnpm demo` prints it) instead.
 */
import { execFileSync } from 'node:child_process'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Resvg } from '@resvg/resvg-js'
import { parquetLog } from '@skewless/offline-parquet'
import { freshnessReport, renderFreshnessChart } from '../src/index.js'

const args = process.argv.slice(2)
const logAt = args.indexOf('--log')
const given = logAt >= 0 ? args.splice(logAt, 2)[1] : undefined
const out = args[0] ?? 'docs/img/freshness.png'
const kept = given ?? runDemo()

function runDemo(): string {
  const demo = execFileSync(process.execPath, ['--import', 'tsx', 'examples/quickstart/src/main.ts'], {
    env: { ...process.env, SKEWLESS_KEEP_DEMO: '1' },
    encoding: 'utf8',
  })
  const dir = /\(kept (.+)\)\s*$/.exec(demo)?.[1]
  if (dir === undefined)
    throw new Error('the demo did not print "(kept <dir>)": was SKEWLESS_KEEP_DEMO honoured?')
  return dir
}

try {
  const log = await parquetLog({
    dir: join(kept, 'feature-log'),
    features: { clicks_5m: 'int64', spend_1h: 'double', last_page_10m: 'string' },
    readOnly: true,
  })
  const report = await freshnessReport(log, { batchEvery: '30m' })
  await log.close()
  const svg = renderFreshnessChart(report, {
    title: 'Quickstart demo: feature age, streaming vs a batch materialization every 30m',
  })
  await writeFile(
    out,
    new Resvg(svg, { background: 'white', font: { loadSystemFonts: true } }).render().asPng(),
  )
  await writeFile(out.replace(/\.png$/, '.svg'), svg)
  for (const f of report.features) {
    const s = f.streaming.overall
    const b = f.batch.overall
    console.log(
      `${f.feature}: streaming p50 ${s.p50} p99 ${s.p99} max ${s.max} ms; batch p50 ${b.p50} p99 ${b.p99} max ${b.max} ms`,
    )
  }
  console.log(`wrote ${out}`)
} finally {
  if (given === undefined) await rm(kept, { recursive: true, force: true })
}
