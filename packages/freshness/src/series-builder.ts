/**
 * Accumulates one series (streaming or batch) of one feature, partition after partition: per sample
 * instant a histogram over entities, plus the histogram of every (entity, instant) sample.
 */
import { AgeHistogram, BUCKETS, bucketOf, quantileOf } from './age-histogram.js'
import type { AgeSeries } from './types.js'

export class SeriesBuilder {
  private readonly slotCounts: Uint32Array
  private readonly slotN: Uint32Array
  private readonly slotSum: Float64Array
  private readonly slotMax: Float64Array
  private readonly all = new AgeHistogram()

  constructor(private readonly times: Float64Array) {
    const s = times.length
    this.slotCounts = new Uint32Array(s * BUCKETS)
    this.slotN = new Uint32Array(s)
    this.slotSum = new Float64Array(s)
    this.slotMax = new Float64Array(s).fill(Number.NEGATIVE_INFINITY)
  }

  /**
   * Add the entities of one partition. `newest[e * S + k]` holds the greatest eventTime that became
   * the entity's value first at sample k (-Infinity when none); a running maximum over k gives the
   * value held at each sample, since a later sample still holds it unless a newer one arrived.
   */
  addEntities(newest: Float64Array, entities: number): void {
    const s = this.times.length
    for (let e = 0; e < entities; e++) {
      let held = Number.NEGATIVE_INFINITY
      for (let k = 0; k < s; k++) {
        const ev = newest[e * s + k] as number
        if (ev > held) held = ev
        if (held === Number.NEGATIVE_INFINITY) continue
        this.add(k, (this.times[k] as number) - held)
      }
    }
  }

  /** Add an age observed outside the sampled range: it counts in `overall` only. */
  recordOutside(age: number): void {
    this.all.record(age)
  }

  /** Add one age observed at sample `k`. */
  add(k: number, age: number): void {
    const b = k * BUCKETS + bucketOf(age)
    this.slotCounts[b] = (this.slotCounts[b] as number) + 1
    this.slotN[k] = (this.slotN[k] as number) + 1
    this.slotSum[k] = (this.slotSum[k] as number) + age
    if (age > (this.slotMax[k] as number)) this.slotMax[k] = age
    this.all.record(age)
  }

  build(): AgeSeries {
    const s = this.times.length
    const p50 = new Float64Array(s)
    const p90 = new Float64Array(s)
    const mean = new Float64Array(s)
    for (let k = 0; k < s; k++) {
      const n = this.slotN[k] as number
      const max = this.slotMax[k] as number
      p50[k] = quantileOf(this.slotCounts, k * BUCKETS, n, 0.5, max)
      p90[k] = quantileOf(this.slotCounts, k * BUCKETS, n, 0.9, max)
      mean[k] = n === 0 ? Number.NaN : (this.slotSum[k] as number) / n
    }
    return { entities: this.slotN.slice(), p50, p90, mean, overall: this.all.stats() }
  }
}
