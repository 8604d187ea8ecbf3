/**
 * The freshness chart: one panel per feature, the median age over entities at each sample instant
 * for the streaming pipeline (flat and low) and for a batch materialization every K (the sawtooth).
 * Drawn with Observable Plot on a linkedom document: no browser, no canvas, no native code (measured
 * against Vega-Lite in docs/decisions/charting.md).
 */
import * as Plot from '@observablehq/plot'
import { parseHTML } from 'linkedom'
import type { ChartOptions, FreshnessReport, SeriesColours } from './types.js'

/** Stroke colours of the two series (tests count these pixels in the rendered image). */
export const SERIES_COLOURS: Readonly<SeriesColours> = {
  streaming: '#1f77b4',
  batch: '#d62728',
  served: '#2ca02c',
}

interface Point {
  time: Date
  feature: string
  series: string
  age: number
}

/** The unit the ages read best in: seconds, minutes or hours, from the largest age drawn. */
function ageUnit(maxMs: number): { label: string; ms: number } {
  if (maxMs < 120_000) return { label: 'seconds', ms: 1000 }
  if (maxMs < 2 * 3_600_000) return { label: 'minutes', ms: 60_000 }
  return { label: 'hours', ms: 3_600_000 }
}

/** A duration in the shortest exact words: '1h', '90m', '30s', '250ms'. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`
  }
  return `${ms}ms`
}

/** Render a report as a standalone SVG document (a string). */
export function renderFreshnessChart(report: FreshnessReport, options: ChartOptions = {}): string {
  const every = formatDuration(report.batchEveryMs)
  const labels = { streaming: 'streaming (this pipeline)', batch: `batch, materialized every ${every}` }
  const points: Point[] = []
  let maxAge = 0
  for (const f of report.features) {
    for (const [key, series] of [
      ['streaming', f.streaming],
      ['batch', f.batch],
    ] as const) {
      for (let k = 0; k < f.times.length; k++) {
        const age = series.p50[k] as number
        if (Number.isNaN(age)) continue
        if (age > maxAge) maxAge = age
        points.push({ time: new Date(f.times[k] as number), feature: f.feature, series: labels[key], age })
      }
    }
  }
  // Served values, when given: dots at the median age of the reads near each sample instant.
  const served: Point[] = []
  for (const f of report.features) {
    if (f.served === undefined) continue
    for (let k = 0; k < f.times.length; k++) {
      const age = f.served.p50[k] as number
      if (Number.isNaN(age)) continue
      if (age > maxAge) maxAge = age
      served.push({ time: new Date(f.times[k] as number), feature: f.feature, series: 'served', age })
    }
  }
  const unit = ageUnit(maxAge)
  for (const p of points) p.age /= unit.ms
  for (const p of served) p.age /= unit.ms
  const short = (ms: number) => (Number.isNaN(ms) ? '–' : `${(ms / unit.ms).toPrecision(2)}`)
  const summaries = report.features.map((f) => ({
    feature: f.feature,
    text:
      `p50 / p99 (${unit.label}): streaming ${short(f.streaming.overall.p50)} / ${short(f.streaming.overall.p99)}, ` +
      `batch ${short(f.batch.overall.p50)} / ${short(f.batch.overall.p99)}` +
      (f.served ? `, served ${short(f.served.overall.p50)} / ${short(f.served.overall.p99)}` : ''),
  }))
  const width = options.width ?? 900
  const panelHeight = options.panelHeight ?? 180
  const panels = Math.max(1, report.features.length)
  const first = report.features[0]?.feature ?? ''
  let span = 0
  for (const f of report.features) span = Math.max(span, (f.times.at(-1) ?? 0) - (f.times[0] ?? 0))
  // Drawn once, over the first panel: a mark without an fy channel would repeat in every panel.
  const once = { fy: [first], frameAnchor: 'top-left' as const }
  const { document } = parseHTML('<!doctype html><html><body></body></html>')
  const svg = Plot.plot({
    document: document as unknown as NonNullable<Plot.PlotOptions['document']>,
    width,
    height: 86 + panelHeight * panels,
    marginTop: 66,
    marginLeft: 70,
    marginRight: 110,
    style: { background: 'white', fontFamily: 'DejaVu Sans, Arial, sans-serif', fontSize: '11px' },
    x: { type: 'utc', label: 'time (UTC)', tickFormat: span > 2 * 86_400_000 ? '%Y-%m-%d' : '%H:%M' },
    y: { label: `median age over entities (${unit.label})`, labelAnchor: 'center', grid: true, zero: true },
    fy: { label: null, padding: 0.25, domain: report.features.map((f) => f.feature) },
    color: {
      domain: [labels.streaming, labels.batch],
      range: [SERIES_COLOURS.streaming, SERIES_COLOURS.batch],
    },
    marks: [
      Plot.frame({ stroke: '#999' }),
      Plot.lineY(points, {
        x: 'time',
        y: 'age',
        z: 'series',
        stroke: 'series',
        fy: 'feature',
        strokeWidth: 2,
      }),
      Plot.dot(served, { x: 'time', y: 'age', fy: 'feature', r: 2, fill: SERIES_COLOURS.served }),
      Plot.text(summaries, {
        fy: 'feature',
        text: 'text',
        // Above the panel's frame, right-aligned: inside it, a line would cross the text.
        frameAnchor: 'top-right',
        lineAnchor: 'bottom',
        dy: -4,
        fill: '#444',
      }),
      Plot.text([options.title ?? `Feature age: streaming vs batch every ${every}`], {
        ...once,
        dy: -52,
        fontSize: 14,
        fontWeight: 'bold',
        fill: '#000',
      }),
      Plot.text([`— ${labels.streaming}`], { ...once, dy: -34, fill: SERIES_COLOURS.streaming }),
      Plot.text([`— ${labels.batch}`], { ...once, dx: 200, dy: -34, fill: SERIES_COLOURS.batch }),
      Plot.text(served.length > 0 ? ['● served (reader log)'] : [], {
        ...once,
        dx: 420,
        dy: -34,
        fill: SERIES_COLOURS.served,
      }),
    ],
  }) as unknown as { setAttribute(name: string, value: string): void; outerHTML: string }
  // A standalone .svg file needs its namespace; Plot leaves it to the HTML document it expects.
  svg.setAttribute('xmlns', 'http://www.w3.org/2000/svg')
  return `<?xml version="1.0" encoding="UTF-8"?>\n${svg.outerHTML}\n`
}
