/**
 * Accumulates one series (streaming, batch or served) of one feature, partition after partition: per
 * sample instant a histogram over entities. The overall statistics are the sum of the per-sample
 * histograms (plus ages observed outside the sampled range), so each age is bucketed once.
 */
import { AgeHistogram, BUCKETS, bucketOf, quantileOf } from './age-histogram.js'
import type { AgeSeries } from './types.js'

export class SeriesBuilder {
  private readonly slotCounts: Uint32Array
  private readonly slotN: Uint32Array
  private readonly slotSum: Float64Array
  private readonly slotMax: Float64Array
  private readonly outside = new AgeHistogram()

  constructor(private readonly times: Float64Array) {
    const s = times.length
    this.slotCounts = new Uint32Array(s * BUCKETS)
    this.slotN = new Uint32Array(s)
    this.slotSum = new Float64Array(s)
    this.slotMax = new Float64Array(s).fill(Number.NEGATIVE_INFINITY)
  }

  /**
   * Add the entities of one partition. `newest[k * entities + e]` holds the greatest eventTime that
   * became entity e's value first at sample k (-Infinity when none); a running maximum over k gives
   * the value held at each sample, since a later sample still holds it unless a newer one arrived.
   * The hot loop of the report (entities × samples): sample-major, so each step reads `newest` and
   * `held` in order and updates one sample's histogram, which stays in cache.
   */
  addEntities(newest: Float64Array, entities: number): void {
    const s = this.times.length
    const { times, slotCounts, slotN, slotSum, slotMax } = this
    const held = new Float64Array(entities).fill(Number.NEGATIVE_INFINITY)
    for (let k = 0; k < s; k++) {
      const base = k * entities
      const offset = k * BUCKETS
      const t = times[k] as number
      let n = 0
      let sum = 0
      let max = slotMax[k] as number
      for (let e = 0; e < entities; e++) {
        const ev = newest[base + e] as number
        let h = held[e] as number
        if (ev > h) {
          h = ev
          held[e] = ev
        }
        if (h === Number.NEGATIVE_INFINITY) continue
        const age = t - h
        const b = offset + bucketOf(age)
        slotCounts[b] = (slotCounts[b] as number) + 1
        n++
        sum += age
        if (age > max) max = age
      }
      slotN[k] = (slotN[k] as number) + n
      slotSum[k] = (slotSum[k] as number) + sum
      slotMax[k] = max
    }
  }

  /** Add an age observed outside the sampled range: it counts in `overall` only. */
  recordOutside(age: number): void {
    this.outside.record(age)
  }

  /** Add one age observed at sample `k`. */
  add(k: number, age: number): void {
    const b = k * BUCKETS + bucketOf(age)
    this.slotCounts[b] = (this.slotCounts[b] as number) + 1
    this.slotN[k] = (this.slotN[k] as number) + 1
    this.slotSum[k] = (this.slotSum[k] as number) + age
    if (age > (this.slotMax[k] as number)) this.slotMax[k] = age
  }

  build(): AgeSeries {
    const s = this.times.length
    const p50 = new Float64Array(s)
    const p90 = new Float64Array(s)
    const mean = new Float64Array(s)
    const all = this.outside
    for (let k = 0; k < s; k++) {
      const n = this.slotN[k] as number
      const max = this.slotMax[k] as number
      p50[k] = quantileOf(this.slotCounts, k * BUCKETS, n, 0.5, max)
      p90[k] = quantileOf(this.slotCounts, k * BUCKETS, n, 0.9, max)
      mean[k] = n === 0 ? Number.NaN : (this.slotSum[k] as number) / n
      if (n === 0) continue
      for (let i = 0; i < BUCKETS; i++)
        all.counts[i] = (all.counts[i] as number) + (this.slotCounts[k * BUCKETS + i] as number)
      all.n += n
      all.sum += this.slotSum[k] as number
      if (max > all.max) all.max = max
    }
    return { entities: this.slotN.slice(), p50, p90, mean, overall: all.stats() }
  }
}
