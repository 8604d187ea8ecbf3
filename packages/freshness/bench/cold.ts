/**
 * One cold render in a fresh process: import the candidate's modules, then render once. Prints
 * `{ importMs, firstRenderMs, bytes }` as JSON. Spawned by bench/charting.ts.
 */
import { performance } from 'node:perf_hooks'
import { sampleRows } from './sample-rows.ts'

const which = process.argv[2]
const rows = sampleRows()
const t0 = performance.now()
const c = which === 'vega' ? await import('./vega-candidate.ts') : await import('./plot-candidate.ts')
const t1 = performance.now()
const svg = 'renderVega' in c ? await c.renderVega(rows) : c.renderPlot(rows)
const t2 = performance.now()
console.log(JSON.stringify({ importMs: t1 - t0, firstRenderMs: t2 - t1, bytes: svg.length }))
