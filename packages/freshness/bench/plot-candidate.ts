import * as Plot from '@observablehq/plot'
import { parseHTML } from 'linkedom'
import type { Row } from './candidates.ts'

/** Observable Plot on a linkedom document. */
export function renderPlot(rows: Row[]): string {
  const { document } = parseHTML('<!doctype html><html><body></body></html>')
  const features = [...new Set(rows.map((r) => r.feature))]
  const svg = Plot.plot({
    document: document as unknown as NonNullable<Plot.PlotOptions['document']>,
    width: 800,
    height: 60 + 180 * features.length,
    marginLeft: 60,
    x: { type: 'utc', label: 'time (UTC)' },
    y: { label: 'age (min)', grid: true },
    fy: { label: null },
    color: { domain: ['streaming', 'batch'], range: ['#1f77b4', '#d62728'], legend: false },
    marks: [
      Plot.lineY(rows, {
        x: (r: Row) => new Date(r.t),
        y: 'ageMin',
        z: 'series',
        stroke: 'series',
        fy: 'feature',
        curve: 'step-after',
      }),
      Plot.frame(),
    ],
  }) as unknown as { outerHTML: string }
  return svg.outerHTML
}
