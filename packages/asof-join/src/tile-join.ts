/**
 * The join of additive tile features (`emit: 'tiles'`) for one partition of labels: the value the
 * online reader (`@skewless/online-sink`, `sumTiles`) computes at each label time from the tiles
 * the store held then. A separate path from the whole-value kernel because a label's answer is not
 * one best record but a sum over the best record of each tile in its window.
 *
 * Same staging idea as the kernel: each record goes to the *first* label slot of its entity at
 * which it is eligible (binary search on `eligibleFrom`), and a per-entity sweep carries it
 * forward. Two facts keep the staged state bounded by labels × tiles-per-window, not by the log:
 * - per (slot, tileStart) only the greatest record by (eventTime, version, availableTime, scan
 *   order) is kept — a beaten record of the same tile can never be chosen at a later label;
 * - a record whose tile already lies before the window at that slot's time is before the window at
 *   every later label too (label times only grow along the sweep): all it can still contribute is
 *   the decay instant `tileStart + sizeMs`, kept as one max per slot.
 * The sweep keeps, per entity, the live tiles sorted by tileStart; tiles that fall before the
 * window are folded into the decay instant, then the window's tiles are summed in ascending
 * tileStart order — the reader's order, so double sums are bit-identical.
 */
import { tileStart as tileStartOf } from '@skewless/core'
import type { ResolvedFeature } from './features.js'
import type { LabelIndex } from './label-index.js'
import type { FeatureColumn } from './output.js'

const NONE = -1

export class TileJoin {
  private readonly n: number
  /** Per (feature, slot): first staged entry, or NONE. */
  private readonly head: Int32Array
  /** Per (feature, slot): greatest `tileStart + sizeMs` of staged tiles already before the window. */
  private readonly decay: Float64Array
  /** Per (feature, slot): some record became eligible here (the entity has tiles from now on). */
  private readonly any: Uint8Array
  /** Staged entries (struct of arrays, grown by doubling). */
  private cap = 1024
  private count = 0
  private eTile = new Float64Array(this.cap)
  private eEt = new Float64Array(this.cap)
  private eVer = new Float64Array(this.cap)
  private eAt = new Float64Array(this.cap)
  private eVal = new Float64Array(this.cap)
  private eValid = new Uint8Array(this.cap)
  private eNext = new Int32Array(this.cap)

  constructor(
    private readonly index: LabelIndex,
    /** The tile features (each with its window), in the order their staged index refers to. */
    private readonly features: readonly ResolvedFeature[],
    private readonly inclusive: boolean,
    private readonly byAvailable: boolean,
  ) {
    this.n = index.length
    const size = this.n * features.length
    this.head = new Int32Array(size).fill(NONE)
    this.decay = new Float64Array(size).fill(Number.NEGATIVE_INFINITY)
    this.any = new Uint8Array(size)
  }

  /** Number of staged (slot, tile) entries: the path's working set. */
  get staged(): number {
    return this.count
  }

  /**
   * Stage one applied tile record of entity code `c` and tile feature `f` (index into `features`).
   * `valid` is 0 when the record's value is null (the tile exists but adds nothing, as online).
   */
  add(
    c: number,
    f: number,
    tile: number,
    et: number,
    ver: number,
    at: number,
    value: number,
    valid: number,
  ): void {
    const { entStart, times: T } = this.index
    let lo = entStart[c] as number
    let hi = entStart[c + 1] as number
    const key = this.byAvailable && at > et ? at : et
    const end = hi
    if (this.inclusive) {
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
    if (lo === end) return
    const s = f * this.n + lo
    this.any[s] = 1
    const w = (this.features[f] as ResolvedFeature).window as { sizeMs: number; hopMs: number }
    const windowStart = tileStartOf(T[lo] as number, w.hopMs) + w.hopMs - w.sizeMs
    if (tile < windowStart) {
      if (tile + w.sizeMs > (this.decay[s] as number)) this.decay[s] = tile + w.sizeMs
      return
    }
    for (let k = this.head[s] as number; k !== NONE; k = this.eNext[k] as number) {
      if (this.eTile[k] !== tile) continue
      // Records arrive in scan order: on a full tie the later one wins.
      if (newer(et, ver, at, this.eEt[k] as number, this.eVer[k] as number, this.eAt[k] as number) >= 0) {
        this.set(k, tile, et, ver, at, value, valid)
      }
      return
    }
    if (this.count === this.cap) this.grow()
    const k = this.count++
    this.set(k, tile, et, ver, at, value, valid)
    this.eNext[k] = this.head[s] as number
    this.head[s] = k
  }

  private set(k: number, tile: number, et: number, ver: number, at: number, value: number, valid: number) {
    this.eTile[k] = tile
    this.eEt[k] = et
    this.eVer[k] = ver
    this.eAt[k] = at
    this.eVal[k] = value
    this.eValid[k] = valid
  }

  private grow(): void {
    this.cap *= 2
    const g = <A extends Float64Array | Uint8Array | Int32Array>(a: A, make: new (n: number) => A): A => {
      const b = new make(this.cap)
      b.set(a)
      return b
    }
    this.eTile = g(this.eTile, Float64Array)
    this.eEt = g(this.eEt, Float64Array)
    this.eVer = g(this.eVer, Float64Array)
    this.eAt = g(this.eAt, Float64Array)
    this.eVal = g(this.eVal, Float64Array)
    this.eValid = g(this.eValid, Uint8Array)
    this.eNext = g(this.eNext, Int32Array)
  }

  /** Sweep each entity's labels in time order and write every tile feature's value into `out`. */
  finish(out: readonly FeatureColumn[]): void {
    const { entStart, perm, times: T } = this.index
    const numEntities = entStart.length - 1
    // The live tiles of the current entity, sorted by tileStart: each an index of a staged entry.
    const live: number[] = []
    for (let f = 0; f < this.features.length; f++) {
      const feat = this.features[f] as ResolvedFeature
      const { sizeMs, hopMs } = feat.window as { sizeMs: number; hopMs: number }
      const col = out[f] as FeatureColumn
      const base = f * this.n
      for (let c = 0; c < numEntities; c++) {
        live.length = 0
        let first = 0
        let any = false
        let decayedAt = Number.NEGATIVE_INFINITY
        for (let j = entStart[c] as number, end = entStart[c + 1] as number; j < end; j++) {
          const s = base + j
          if (this.any[s] === 1) any = true
          if ((this.decay[s] as number) > decayedAt) decayedAt = this.decay[s] as number
          for (let k = this.head[s] as number; k !== NONE; k = this.eNext[k] as number) {
            this.merge(live, first, k)
          }
          if (!any) continue
          const t = T[j] as number
          const windowEnd = tileStartOf(t, hopMs) + hopMs
          const windowStart = windowEnd - sizeMs
          // Tiles before the window stay before it at every later label: fold them into the decay.
          while (first < live.length && (this.eTile[live[first] as number] as number) < windowStart) {
            const x = (this.eTile[live[first] as number] as number) + sizeMs
            if (x > decayedAt) decayedAt = x
            first++
          }
          let sum = 0
          let inWindow = 0
          let eventTime = Number.NEGATIVE_INFINITY
          for (let q = first; q < live.length; q++) {
            const k = live[q] as number
            if ((this.eTile[k] as number) >= windowEnd) break
            inWindow++
            if (this.eValid[k] === 1) sum += this.eVal[k] as number
            if ((this.eEt[k] as number) > eventTime) eventTime = this.eEt[k] as number
          }
          if (inWindow === 0) {
            // Decayed; or only tiles after the window (eventTimes before their tile): nothing yet.
            eventTime = decayedAt === Number.NEGATIVE_INFINITY ? t : decayedAt
            sum = 0
          }
          const age = t - eventTime
          if (age > feat.maxAgeMs) continue
          const row = perm[j] as number
          col.found[row] = 1
          col.valid[row] = 1
          col.eventTime[row] = eventTime
          col.age[row] = age
          if (col.num) col.num[row] = sum
          else (col.obj as unknown[])[row] = sum
        }
      }
    }
  }

  /** Put staged entry `k` into the sorted live list (from `first`), replacing a beaten one of its tile. */
  private merge(live: number[], first: number, k: number): void {
    const tile = this.eTile[k] as number
    let lo = first
    let hi = live.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((this.eTile[live[mid] as number] as number) < tile) lo = mid + 1
      else hi = mid
    }
    if (lo < live.length && this.eTile[live[lo] as number] === tile) {
      const o = live[lo] as number
      // A full tie (same times and version) has the same eligibleFrom, so it was decided in one slot
      // by scan order; entries of different slots always differ.
      if (
        newer(
          this.eEt[k] as number,
          this.eVer[k] as number,
          this.eAt[k] as number,
          this.eEt[o] as number,
          this.eVer[o] as number,
          this.eAt[o] as number,
        ) > 0
      ) {
        live[lo] = k
      }
      return
    }
    live.splice(lo, 0, k)
  }
}

/** The record order of the log: eventTime, then version, then availableTime. */
function newer(aEt: number, aVer: number, aAt: number, bEt: number, bVer: number, bAt: number): number {
  return aEt - bEt || aVer - bVer || aAt - bAt
}
