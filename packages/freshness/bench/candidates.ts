/**
 * The two charting candidates measured for docs/decisions/charting.md, drawing the same chart: one
 * panel per feature, a streaming line and a batch sawtooth. Each lives in its own module so a cold
 * process imports only one library. Run by bench/charting.ts.
 */
export { renderPlot } from './plot-candidate.ts'
export { renderVega } from './vega-candidate.ts'

/** One row of the chart's data: a sample instant, a feature, a series and the age there. */
export interface Row {
  t: number
  feature: string
  series: string
  ageMin: number
}
