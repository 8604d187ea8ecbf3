export { formatDuration, renderFreshnessChart, SERIES_COLOURS } from './chart.js'
export { freshnessReport } from './report.js'
export type * from './types.js'
