/**
 * The sample instants of a report and, for each, the batch materialization instant in force there.
 * Both are ascending, so "the first sample at or after x" is a binary search.
 */
export interface SampleGrid {
  /** Sample instants, ascending. */
  times: Float64Array
  /** Per sample: the last materialization instant at or before it. */
  materializedAt: Float64Array
}

/** `samples` instants evenly spaced over `[from, to]` (one when `from === to`), integral ms. */
export function sampleGrid(from: number, to: number, samples: number, batchEveryMs: number): SampleGrid {
  const n = to > from ? samples : 1
  const times = new Float64Array(n)
  const materializedAt = new Float64Array(n)
  for (let k = 0; k < n; k++) {
    const t = n === 1 ? from : k === n - 1 ? to : from + Math.round((k * (to - from)) / (n - 1))
    times[k] = t
    materializedAt[k] = Math.floor(t / batchEveryMs) * batchEveryMs
  }
  return { times, materializedAt }
}

/** Index of the first element of ascending `xs` that is >= `x`; `xs.length` when none. */
export function firstAtOrAfter(xs: Float64Array, x: number): number {
  let lo = 0
  let hi = xs.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((xs[mid] as number) < x) lo = mid + 1
    else hi = mid
  }
  return lo
}
