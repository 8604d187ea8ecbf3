/** The `served` series: ages of the values the online reader actually served, by feature. */
import { SeriesBuilder } from './series-builder.js'
import type { AgeSeries, ServedAge } from './types.js'

/** Served (readTime, eventTime) pairs by feature, as two parallel number arrays. */
export function groupServed(served: Iterable<ServedAge>, features: readonly string[]): Map<string, number[]> {
  const wanted = new Set(features)
  const by = new Map<string, number[]>()
  for (const r of served) {
    if (!wanted.has(r.feature) || r.eventTime === null || r.eventTime === undefined) continue
    let pairs = by.get(r.feature)
    if (pairs === undefined) {
      pairs = []
      by.set(r.feature, pairs)
    }
    pairs.push(r.readTime, r.eventTime)
  }
  return by
}

/** Each served age counted at the sample instant nearest its read time. */
export function servedSeries(pairs: readonly number[], times: Float64Array): AgeSeries {
  const b = new SeriesBuilder(times)
  const first = times[0] as number
  const last = times[times.length - 1] as number
  const step = times.length > 1 ? (last - first) / (times.length - 1) : 1
  for (let i = 0; i < pairs.length; i += 2) {
    const read = pairs[i] as number
    const age = read - (pairs[i + 1] as number)
    const k = read < first - step / 2 || read > last + step / 2 ? -1 : Math.round((read - first) / step)
    if (k < 0) b.recordOutside(age)
    else b.add(Math.min(times.length - 1, k), age)
  }
  return b.build()
}
