/**
 * The join kernel for one partition of labels. No record is ever sorted: each log record goes to
 * the *first* label slot (in (entity, time) order) at which it becomes eligible — found by binary
 * search on `eligibleFrom` (eventTime for `by: 'event'`, max(eventTime, availableTime) for
 * `'available'`: a record is eligible at t iff both its times are <= t, and once eligible it stays
 * eligible) — and the slot keeps the greatest record by (eventTime, version, availableTime, scan
 * order). A final prefix sweep per entity carries the running best forward to later labels. Cost:
 * one pass over the records with O(log labels-per-entity) each, then one pass over the labels; the
 * records can arrive in any order and are never held, so the log is streamed batch by batch.
 */
import type { ResolvedFeature } from './features.js'
import type { LabelIndex } from './label-index.js'
import type { JoinOutput } from './output.js'

/** One block of decoded log rows (scratch arrays, valid for [0, n)). */
export interface Block {
  n: number
  /** Row of the block's first record within its batch. */
  rowBase: number
  ent: Int32Array
  fid: Int32Array
  elig: Float64Array
  et: Float64Array
  ver: Float64Array
  at: Float64Array
  /** value_double of the batch, fast path. */
  dbl: Float64Array | undefined
  dblOffset: number
  dblBitmap: Uint8Array | undefined
  /** Generic value getters of the batch by kind (int64, string, bool; double when not fast). */
  getters: (((row: number) => unknown) | undefined)[]
}

export class PartitionJoin {
  private readonly n: number
  private readonly bEt: Float64Array
  private readonly bVer: Float64Array
  private readonly bAt: Float64Array
  private readonly hasVal: Uint8Array
  private readonly num: Float64Array | undefined
  private readonly obj: unknown[] | undefined
  private readonly kinds: Int32Array

  constructor(
    private readonly index: LabelIndex,
    private readonly features: readonly ResolvedFeature[],
    private readonly inclusive: boolean,
  ) {
    this.n = index.length
    const size = this.n * features.length
    this.bEt = new Float64Array(size).fill(Number.NEGATIVE_INFINITY)
    this.bVer = new Float64Array(size)
    this.bAt = new Float64Array(size)
    this.hasVal = new Uint8Array(size)
    this.kinds = Int32Array.from(features.map((f) => f.kind))
    this.num = features.some((f) => f.kind === 0) ? new Float64Array(size) : undefined
    this.obj = features.some((f) => f.kind !== 0) ? new Array(size).fill(null) : undefined
  }

  block(b: Block): void {
    const { entStart, times: T } = this.index
    const { ent, fid, elig, et, ver, at } = b
    const { bEt, bVer, bAt, hasVal, num, obj, kinds } = this
    const L = this.n
    const inclusive = this.inclusive
    const dbl = b.dbl
    const dblOffset = b.dblOffset
    const dblBitmap = b.dblBitmap
    for (let i = 0; i < b.n; i++) {
      const c = ent[i] as number
      if (c < 0) continue
      const f = fid[i] as number
      if (f < 0) continue
      let lo = entStart[c] as number
      const end = entStart[c + 1] as number
      if (lo === end) continue
      const key = elig[i] as number
      let hi = end
      if (inclusive) {
        while (lo < hi) {
          const mid = (lo + hi) >>> 1
          if ((T[mid] as number) < key) lo = mid + 1
          else hi = mid
        }
      } else {
        while (lo < hi) {
          const mid = (lo + hi) >>> 1
          if ((T[mid] as number) <= key) lo = mid + 1
          else hi = mid
        }
      }
      if (lo === end) continue
      const s = f * L + lo
      const e = et[i] as number
      const be = bEt[s] as number
      if (e < be) continue
      if (e === be) {
        const v = ver[i] as number
        const bv = bVer[s] as number
        if (v < bv || (v === bv && (at[i] as number) < (bAt[s] as number))) continue
      }
      // Records arrive in scan order: on a full tie the later one wins.
      bEt[s] = e
      bVer[s] = ver[i] as number
      bAt[s] = at[i] as number
      const row = b.rowBase + i
      if (kinds[f] === 0 && dbl !== undefined) {
        const k = dblOffset + row
        const ok = dblBitmap === undefined || ((dblBitmap[k >> 3] as number) & (1 << (k & 7))) !== 0
        hasVal[s] = ok ? 1 : 0
        ;(num as Float64Array)[s] = ok ? (dbl[k] as number) : 0
      } else {
        const get = b.getters[kinds[f] as number]
        const v = get === undefined ? null : get(row)
        hasVal[s] = v === null || v === undefined ? 0 : 1
        if (kinds[f] === 0) (num as Float64Array)[s] = v === null ? 0 : (v as number)
        else (obj as unknown[])[s] = v
      }
    }
  }

  /** Prefix sweep per entity, then write each label's result into `out` at its input row. */
  finish(out: JoinOutput): void {
    const { entStart, perm, times: T } = this.index
    const { bEt, bVer, bAt, hasVal, num, obj } = this
    const L = this.n
    const numEntities = entStart.length - 1
    for (let f = 0; f < this.features.length; f++) {
      const col = out.features[f]
      if (col === undefined) continue
      const maxAge = (this.features[f] as ResolvedFeature).maxAgeMs
      const base = f * L
      for (let c = 0; c < numEntities; c++) {
        let best = -1
        for (let j = entStart[c] as number, end = entStart[c + 1] as number; j < end; j++) {
          const s = base + j
          const e = bEt[s] as number
          if (e !== Number.NEGATIVE_INFINITY) {
            if (best < 0) best = s
            else {
              const be = bEt[best] as number
              // A full tie (same eventTime and availableTime) always lands in the same slot, where
              // the later record in scan order already won, so no tie can span two slots.
              if (
                e > be ||
                (e === be &&
                  ((bVer[s] as number) > (bVer[best] as number) ||
                    ((bVer[s] as number) === (bVer[best] as number) &&
                      (bAt[s] as number) > (bAt[best] as number))))
              ) {
                best = s
              }
            }
          }
          if (best < 0) continue
          const age = (T[j] as number) - (bEt[best] as number)
          if (age > maxAge) continue
          const row = perm[j] as number
          col.found[row] = 1
          col.eventTime[row] = bEt[best] as number
          col.age[row] = age
          if (hasVal[best] === 1) {
            col.valid[row] = 1
            if (col.num) col.num[row] = (num as Float64Array)[best] as number
            else (col.obj as unknown[])[row] = (obj as unknown[])[best]
          }
        }
      }
    }
  }
}
