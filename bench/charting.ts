/**
 * `pnpm bench charting`: the two charting candidates of @skewless/freshness (docs/decisions/charting.md),
 * drawing the same freshness chart (3 panels, 2 series × 240 samples each) headless in Node:
 * Vega-Lite compiled to Vega and rendered by `view.toSVG()`, and Observable Plot on a linkedom document.
 * Measures a cold render in a fresh process (module import + first render), warm renders (median of
 * BENCH_REPEAT in this process), and the dependency weight: packages in the install closure and
 * their bytes on disk (each package's own files, nested node_modules excluded).
 *
 * Env: BENCH_REPEAT (30), BENCH_COLD (5, cold processes per candidate; the best counts).
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { renderPlot, renderVega } from '../packages/freshness/bench/candidates.ts'
import { sampleRows } from '../packages/freshness/bench/sample-rows.ts'

const REPEAT = Number(process.env.BENCH_REPEAT ?? 30)
const COLD = Number(process.env.BENCH_COLD ?? 5)
const here = dirname(fileURLToPath(import.meta.url))
const pkgDir = join(here, '../packages/freshness')

/** Own files of a package directory (nested node_modules excluded), in bytes. */
function dirBytes(dir: string): number {
  let total = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules') continue
    const p = join(dir, e.name)
    if (e.isDirectory()) total += dirBytes(p)
    else if (e.isFile()) total += statSync(p).size
  }
  return total
}

/** The install closure of `roots` (dependencies, recursively), resolved as Node would from `from`. */
function closure(roots: string[], from: string): { packages: number; bytes: number } {
  const seen = new Map<string, number>()
  const visit = (name: string, fromDir: string) => {
    const req = createRequire(join(fromDir, 'noop.js'))
    let manifest: string
    try {
      manifest = realpathSync(req.resolve(`${name}/package.json`))
    } catch {
      // A package whose exports hide package.json: walk up from its main entry.
      let d = dirname(realpathSync(req.resolve(name)))
      while (!readdirSync(d).includes('package.json')) d = dirname(d)
      manifest = join(d, 'package.json')
    }
    const dir = dirname(manifest)
    if (seen.has(dir)) return
    seen.set(dir, dirBytes(dir))
    const deps = JSON.parse(readFileSync(manifest, 'utf8')).dependencies ?? {}
    for (const d of Object.keys(deps)) visit(d, dir)
  }
  for (const r of roots) visit(r, from)
  let bytes = 0
  for (const b of seen.values()) bytes += b
  return { packages: seen.size, bytes }
}

function cold(which: string): { importMs: number; firstRenderMs: number; bytes: number } {
  let best: { importMs: number; firstRenderMs: number; bytes: number } | undefined
  for (let i = 0; i < COLD; i++) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', join(pkgDir, 'bench/cold.ts'), which], {
      cwd: pkgDir,
      encoding: 'utf8',
    })
    const r = JSON.parse(out.trim().split('\n').pop() as string)
    if (!best || r.importMs + r.firstRenderMs < best.importMs + best.firstRenderMs) best = r
  }
  return best as { importMs: number; firstRenderMs: number; bytes: number }
}

async function warm(render: () => Promise<string> | string): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < REPEAT; i++) {
    const t0 = performance.now()
    await render()
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)] as number
}

const rows = sampleRows()
const results: Record<string, Record<string, number>> = {}
for (const [name, roots, render] of [
  ['vega-lite+vega', ['vega', 'vega-lite'], () => renderVega(rows)],
  ['plot+linkedom', ['@observablehq/plot', 'linkedom'], () => renderPlot(rows)],
] as const) {
  const c = cold(name.startsWith('vega') ? 'vega' : 'plot')
  const w = await warm(render)
  const deps = closure([...roots], pkgDir)
  results[name] = {
    coldImportMs: Math.round(c.importMs),
    coldFirstRenderMs: Math.round(c.firstRenderMs),
    warmRenderMedianMs: Math.round(w * 10) / 10,
    svgBytes: c.bytes,
    packages: deps.packages,
    installBytes: deps.bytes,
  }
}
console.table(results)
console.log(JSON.stringify({ bench: 'charting', repeat: REPEAT, cold: COLD, results }))
