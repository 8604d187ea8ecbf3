/**
 * A small fixed-bucket log-linear histogram for latencies in ms: 8 linear sub-buckets per power of
 * two from 2^-7 ms (~8 µs) to 2^24 ms (~4.6 h), so any quantile is within 12.5% of the truth, the
 * memory is one `Float64Array` of 250 counters, and `record` costs a `Math.log2` and an increment.
 */
import type { HistogramSnapshot } from './types.js'

const SUB_BITS = 3
const SUB = 1 << SUB_BITS
const MIN_EXP = -7
const MAX_EXP = 24
/** Bucket 0 holds values below 2^MIN_EXP (including 0 and negatives); the last one, values above the range. */
const BUCKETS = (MAX_EXP - MIN_EXP + 1) * SUB + 2

/** Upper bound of a bucket (what a quantile that falls into it reports, before clamping to max). */
function upperBound(i: number): number {
  if (i === 0) return 2 ** MIN_EXP
  if (i === BUCKETS - 1) return Number.POSITIVE_INFINITY
  const e = MIN_EXP + Math.floor((i - 1) / SUB)
  const sub = (i - 1) % SUB
  return 2 ** e * (1 + (sub + 1) / SUB)
}

/** A latency histogram. Not thread-safe (there are no threads); `snapshot` allocates, `record` does not. */
export class Histogram {
  private readonly counts = new Float64Array(BUCKETS)
  private n = 0
  private sum = 0
  private lo = Number.POSITIVE_INFINITY
  private hi = Number.NEGATIVE_INFINITY

  /** Record one value (ms). NaN is ignored. */
  record(v: number): void {
    if (Number.isNaN(v)) return
    let i: number
    if (v < 2 ** MIN_EXP) i = 0
    else {
      const e = Math.floor(Math.log2(v))
      if (e > MAX_EXP) i = BUCKETS - 1
      else {
        const sub = Math.floor((v / 2 ** e - 1) * SUB)
        i = 1 + (e - MIN_EXP) * SUB + (sub < SUB ? sub : SUB - 1)
      }
    }
    this.counts[i] = (this.counts[i] as number) + 1
    this.n++
    this.sum += v
    if (v < this.lo) this.lo = v
    if (v > this.hi) this.hi = v
  }

  /** Number of recorded values. */
  get count(): number {
    return this.n
  }

  /** The value at quantile `q` (0..1): the upper bound of its bucket, clamped to [min, max]. 0 when empty. */
  quantile(q: number): number {
    if (this.n === 0) return 0
    const rank = Math.max(1, Math.ceil(q * this.n))
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i] as number
      if (seen >= rank) {
        const ub = upperBound(i)
        return ub > this.hi ? this.hi : Math.max(ub, this.lo)
      }
    }
    return this.hi
  }

  /** Summary of the distribution. */
  snapshot(): HistogramSnapshot {
    if (this.n === 0) return { count: 0, min: 0, max: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0 }
    return {
      count: this.n,
      min: this.lo,
      max: this.hi,
      mean: this.sum / this.n,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
      p999: this.quantile(0.999),
    }
  }

  /** Forget every value. */
  reset(): void {
    this.counts.fill(0)
    this.n = 0
    this.sum = 0
    this.lo = Number.POSITIVE_INFINITY
    this.hi = Number.NEGATIVE_INFINITY
  }
}
