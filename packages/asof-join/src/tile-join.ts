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
 * The sweep (tile-sweep.ts) then sums each label's window in the reader's order.
 *
 * Locality, as in the kernel (partition-join.ts): placing a record reads the label times, decay
 * and chain head of a random slot (tens of MB at 1M labels), several cache misses per record, most
 * of the join's time. Records are therefore first staged into buckets by the slot range of their
 * entity, and a bucket is placed when its buffer fills, so the slots it touches stay in L2. All
 * records of a slot pass through one bucket in arrival order, so every slot's outcome (scan-order
 * tie rule included) is unchanged; and a bucket's entries are allocated together, which keeps the
 * sweep's chain walks local too.
 */
import { tileStart as tileStartOf } from '@skewless/core'
import { compareRecord } from '@skewless/core/adapter'
import type { LabelIndex } from './label-index.js'
import type { FeatureColumn } from './output.js'
import type { ResolvedFeature } from './resolve-features.js'
import { NONE, TileEntries } from './tile-entries.js'
import { sweepTiles } from './tile-sweep.js'

/** Bucket geometry; tests make it tiny so that records cross buckets and buffers fill. */
export interface TileBuckets {
  /** A bucket holds the entities whose first label slot has the same `slot >>> shift`. */
  shift: number
  /** Records staged per bucket before the bucket is placed. */
  cap: number
}

/** Doubles per staged record: [tileStart, eventTime, version, availableTime, value, (int32 pair:
 * first slot, end slot), (int32 pair: feature, valid)]. */
const STRIDE = 7

/**
 * Buckets of at least 2^12 slots (their times, decay, heads and flags: 21 B a slot) and at most 128
 * of them, 4096 records each: staging is at most 128 × 4096 × 56 B = 29 MB.
 */
function defaultBuckets(n: number): TileBuckets {
  let shift = 12
  while (n >> shift > 128) shift++
  return { shift, cap: 4096 }
}

export class TileJoin {
  private readonly n: number
  /** Per (feature, slot): first staged entry, or NONE. */
  private readonly head: Int32Array
  /** Per (feature, slot): greatest `tileStart + sizeMs` of staged tiles already before the window. */
  private readonly decay: Float64Array
  /** Per (feature, slot): some record became eligible here (the entity has tiles from now on). */
  private readonly any: Uint8Array
  private readonly entries = new TileEntries()
  private readonly shift: number
  private readonly cap: number
  /** Staged records, bucket b at records [b × cap, b × cap + fill[b]). */
  private readonly stageF: Float64Array
  private readonly stageI: Int32Array
  private readonly fill: Int32Array

  constructor(
    private readonly index: LabelIndex,
    /** The tile features (each with its window), in the order their staged index refers to. */
    private readonly features: readonly ResolvedFeature[],
    private readonly inclusive: boolean,
    private readonly byAvailable: boolean,
    buckets: TileBuckets = defaultBuckets(index.length),
  ) {
    this.n = index.length
    const size = this.n * features.length
    this.head = new Int32Array(size).fill(NONE)
    this.decay = new Float64Array(size).fill(Number.NEGATIVE_INFINITY)
    this.any = new Uint8Array(size)
    this.shift = buckets.shift
    this.cap = buckets.cap
    const count = (this.n >> this.shift) + 1
    this.fill = new Int32Array(count)
    this.stageF = new Float64Array(count * this.cap * STRIDE)
    this.stageI = new Int32Array(this.stageF.buffer)
  }

  /** Keeps the warm-up loads observable so they are not optimised away. */
  sink = 0

  /** Number of staged (slot, tile) entries: the path's working set. */
  get staged(): number {
    return this.entries.count
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
    const { entStart } = this.index
    const lo = entStart[c] as number
    const end = entStart[c + 1] as number
    if (lo === end) return
    const bucket = lo >>> this.shift
    const p = this.fill[bucket] as number
    const o = (bucket * this.cap + p) * STRIDE
    const F = this.stageF
    F[o] = tile
    F[o + 1] = et
    F[o + 2] = ver
    F[o + 3] = at
    F[o + 4] = value
    const w = (o + 5) << 1
    this.stageI[w] = lo
    this.stageI[w + 1] = end
    this.stageI[w + 2] = f
    this.stageI[w + 3] = valid
    this.fill[bucket] = p + 1
    if (p + 1 === this.cap) this.place(bucket)
  }

  /** Place every staged record of `bucket` at the first label slot where it is eligible. */
  private place(bucket: number): void {
    const T = this.index.times
    const { stageF: F, stageI: I, head, decay, any, entries, n, inclusive, byAvailable } = this
    const from = bucket * this.cap * STRIDE
    const to = from + (this.fill[bucket] as number) * STRIDE
    this.fill[bucket] = 0
    // Read the bucket's slots once in order, one load per cache line, before the random accesses (see
    // apply-kernel.ts): the prefetcher streams them where demand misses would each pay full latency.
    const first = bucket << this.shift
    const last = Math.min(n, first + (1 << this.shift))
    let acc = 0
    for (let j = first; j < last; j += 8) acc += T[j] as number
    for (let f = 0; f < this.features.length; f++) {
      for (let s = f * n + first, e = f * n + last; s < e; s += 8)
        acc += (decay[s] as number) + (head[s] as number)
    }
    this.sink += acc
    for (let o = from; o < to; o += STRIDE) {
      const w = (o + 5) << 1
      let lo = I[w] as number
      const end = I[w + 1] as number
      const et = F[o + 1] as number
      const at = F[o + 3] as number
      const key = byAvailable && at > et ? at : et
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
      const f = I[w + 2] as number
      const s = f * n + lo
      any[s] = 1
      const win = (this.features[f] as ResolvedFeature).window as { sizeMs: number; hopMs: number }
      const tile = F[o] as number
      const windowStart = tileStartOf(T[lo] as number, win.hopMs) + win.hopMs - win.sizeMs
      if (tile < windowStart) {
        if (tile + win.sizeMs > (decay[s] as number)) decay[s] = tile + win.sizeMs
        continue
      }
      const ver = F[o + 2] as number
      const value = F[o + 4] as number
      const valid = I[w + 3] as number
      let k = head[s] as number
      while (k !== NONE && entries.tile[k] !== tile) k = entries.next[k] as number
      if (k === NONE) head[s] = entries.push(head[s] as number, tile, et, ver, at, value, valid)
      else if (
        compareRecord(
          et,
          ver,
          at,
          entries.et[k] as number,
          entries.ver[k] as number,
          entries.at[k] as number,
        ) >= 0
      ) {
        // Records arrive in scan order: on a full tie the later one wins.
        entries.set(k, tile, et, ver, at, value, valid)
      }
    }
  }

  /** Place what is still staged, then write every label's tile-feature values into `out`. */
  finish(out: readonly FeatureColumn[]): void {
    for (let b = 0; b < this.fill.length; b++) if ((this.fill[b] as number) > 0) this.place(b)
    sweepTiles(this.index, this.features, this.head, this.decay, this.any, this.entries, out)
  }
}
