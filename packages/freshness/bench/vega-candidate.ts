import * as vega from 'vega'
import { compile } from 'vega-lite'
import type { Row } from './candidates.ts'

/** Vega-Lite spec compiled to Vega, rendered by vega's headless SVG renderer. */
export async function renderVega(rows: Row[]): Promise<string> {
  const spec = compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values: rows },
    facet: { row: { field: 'feature', type: 'nominal' } },
    spec: {
      width: 720,
      height: 160,
      mark: { type: 'line', interpolate: 'step-after' },
      encoding: {
        x: { field: 't', type: 'temporal', title: 'time (UTC)' },
        y: { field: 'ageMin', type: 'quantitative', title: 'age (min)' },
        color: { field: 'series', type: 'nominal', scale: { range: ['#1f77b4', '#d62728'] } },
      },
    },
    resolve: { scale: { y: 'independent' } },
  } as never).spec
  const view = new vega.View(vega.parse(spec), { renderer: 'none' })
  const svg = await view.toSVG()
  view.finalize()
  return svg
}
