/**
 * The join kernel for one partition of labels. No record is ever sorted: each log record goes to
 * the *first* label slot (in (entity, time) order) at which it becomes eligible — found by binary
 * search on `eligibleFrom` (eventTime for `by: 'event'`, max(eventTime, availableTime) for
 * `'available'`: a record is eligible at t iff both its times are <= t, and once eligible it stays
 * eligible) — and the slot keeps the greatest record by core's `compareRecord` (eventTime, version, the earlier availableTime), then scan
 * order). A final prefix sweep per entity carries the running best forward to later labels. Cost:
 * one pass over the records with O(log labels-per-entity) each, then one pass over the labels; the
 * records can arrive in any order and are never held, so the log is streamed batch by batch.
 *
 * Locality: with 1M labels the slot arrays span tens of MB, and a record in random order would miss
 * the cache two or three times. Records are therefore first staged into buckets by the slot range
 * of their entity (a buffered radix scatter, 48 bytes per record), and a bucket is applied when its
 * buffer fills, so its slots (times and state, interleaved so one slot is one cache line) stay in
 * L2 while it is worked on (measured on the 10M × 1M benchmark: 1.9 s → 1.0 s single-threaded).
 * With `parallel`, full buckets go to a worker thread (apply-worker.ts) while this thread keeps
 * decoding and staging (→ about 0.5 s on 2 cores).
 *
 * Wide joins: a bucket is a slot range of all features, so a join of F features stages each record
 * once (one pass over the log) into as few buckets as a one-feature join: the staging scatter keeps
 * a few hundred write streams (one bucket per feature and range — 4900 streams for 20 features and
 * 1M labels — made staging 4x slower, measured), and the apply, on the worker, absorbs the wider
 * range. Values of every
 * type are staged as 8 raw bytes (output.ts), so nothing refers to the batch a record came from:
 * buckets are applied only when full, never at the end of a batch, and many small batches cost what
 * one large batch costs.
 */
import { compareRecord } from '@skewless/core/adapter'
import { getInt64 } from '@skewless/core/internal'
import { applyStaged } from './apply-kernel.js'
import { ApplyWorker } from './apply-worker.js'
import type { LabelIndex } from './label-index.js'
import type { JoinOutput } from './output.js'
import type { ResolvedFeature } from './resolve-features.js'

/** A bucket's slot range spans up to 2^12 slots (4096 × 40 B of times and state of a feature fit in L2). */
const SHIFT_MIN = 12
/** At most this many slot ranges (buckets). */
const MAX_RANGES = 256
/** Staging is at most this many bytes (twice with the worker): buckets × cap × 48 B. */
const STAGING_BYTES = 48 * 2 ** 20
/** Records per bucket buffer, at most (and at least, however many buckets there are). */
const CAP_MAX = 4096
const CAP_MIN = 64

/** One block of decoded log rows (scratch arrays, valid for [0, n)). */
export interface Block {
  n: number
  /** Row of the block's first record within its batch. */
  rowBase: number
  ent: Int32Array
  fid: Int32Array
  /** Decoded times and versions, used when the matching raw view below is undefined. */
  et: Float64Array
  ver: Float64Array
  at: Float64Array
  /**
   * Fast path: Int32 (lo, hi) views of 64-bit ms columns without nulls, read directly at
   * `rowBase + i` (no decode pass). `ver32` is a 32-bit version column without nulls.
   */
  et64: Int32Array | undefined
  at64: Int32Array | undefined
  ver64: Int32Array | undefined
  ver32: Int32Array | undefined
  /** Value of row i as 8 raw bytes (`valF[i]` for a double, words `valW[2i]`, `valW[2i + 1]`). */
  valF: Float64Array
  valW: Int32Array
  /** 1 when row i's value is non-null. */
  valid: Uint8Array
}

export class PartitionJoin {
  private readonly n: number
  /** Per slot: [eventTime, version, availableTime, value (raw 8 bytes)]. */
  private readonly state: Float64Array
  private readonly stateI: Int32Array
  private readonly hasVal: Uint8Array
  private readonly F: number
  private readonly shift: number
  private readonly cap: number
  /** Buckets are dense enough (records per cache line of their range) to warm their range first. */
  private readonly warm: boolean
  /**
   * Staged records, 48 bytes each in one buffer (one write stream per bucket): doubles
   * [eventTime, version, availableTime, value], then int32s [first slot, end slot, feature, valid].
   */
  private readonly stageF: Float64Array
  private readonly stageI: Int32Array
  private readonly fill: Int32Array
  /** Record index of each bucket's current staging buffer (two per bucket with a worker). */
  private readonly bufBase: Int32Array
  private readonly cur: Uint8Array
  private readonly worker: ApplyWorker | undefined

  constructor(
    private readonly index: LabelIndex,
    private readonly features: readonly ResolvedFeature[],
    private readonly inclusive: boolean,
    private readonly byAvailable: boolean,
    /** Records arrive grouped by entity (a log with `sortedSegments`): locality is already there. */
    sortedInput = false,
    /** Apply buckets on a worker thread. */
    parallel = false,
  ) {
    this.n = index.length
    this.F = features.length
    const size = this.n * features.length
    const mem = (bytes: number) => (parallel ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes))
    this.state = new Float64Array(mem(size * 32))
    this.stateI = new Int32Array(this.state.buffer)
    for (let s = 0; s < size; s++) this.state[4 * s] = Number.NEGATIVE_INFINITY
    this.hasVal = new Uint8Array(mem(size))
    let shift = SHIFT_MIN
    while (this.n >> shift > MAX_RANGES) shift++
    // Sorted input: one bucket, no scatter and no warm-up.
    if (sortedInput) shift = 30
    this.shift = shift
    const buckets = (this.n >> shift) + 1
    let cap = CAP_MAX
    while (cap > CAP_MIN && buckets * cap * 48 > STAGING_BYTES) cap >>= 1
    this.cap = cap
    // Warm a range only when a full bucket touches most of its cache lines (2 slots per line).
    this.warm = !sortedInput && cap * 2 >= Math.min(this.n, 1 << shift) * this.F
    const perBucket = parallel ? 2 : 1
    this.stageF = new Float64Array(mem(buckets * perBucket * cap * 48))
    this.stageI = new Int32Array(this.stageF.buffer)
    this.fill = new Int32Array(buckets)
    this.cur = new Uint8Array(buckets)
    this.bufBase = new Int32Array(buckets)
    for (let bk = 0; bk < buckets; bk++) this.bufBase[bk] = bk * perBucket * cap
    if (parallel) {
      const T = new Float64Array(new SharedArrayBuffer(this.n * 8))
      T.set(index.times)
      this.worker = new ApplyWorker(
        {
          T: T.buffer as SharedArrayBuffer,
          state: this.state.buffer as SharedArrayBuffer,
          hasVal: this.hasVal.buffer as SharedArrayBuffer,
          stage: this.stageF.buffer as SharedArrayBuffer,
          L: this.n,
          inclusive,
          byAvailable,
          shift,
          F: this.F,
          cap,
          sorted: sortedInput,
          warm: this.warm,
        },
        buckets * 2,
      )
    }
  }

  /** Stage one decoded block; buckets whose buffer fills are applied. */
  block(b: Block): void {
    const { entStart } = this.index
    const { ent, fid, et, ver, at, et64, at64, ver64, ver32, valW, valid } = b
    const { stageF, stageI, fill, shift, bufBase, cap } = this
    const base = b.rowBase
    for (let i = 0; i < b.n; i++) {
      const c = ent[i] as number
      if (c < 0) continue
      const f = fid[i] as number
      if (f < 0) continue
      const lo = entStart[c] as number
      const end = entStart[c + 1] as number
      if (lo === end) continue
      const bucket = lo >>> shift
      const p = fill[bucket] as number
      const o = ((bufBase[bucket] as number) + p) * 6
      stageF[o] = et64 !== undefined ? getInt64(et64, base + i) : (et[i] as number)
      if (ver32 !== undefined) stageF[o + 1] = ver32[base + i] as number
      else stageF[o + 1] = ver64 !== undefined ? getInt64(ver64, base + i) : (ver[i] as number)
      stageF[o + 2] = at64 !== undefined ? getInt64(at64, base + i) : (at[i] as number)
      const w = (o + 3) << 1
      stageI[w] = valW[2 * i] as number
      stageI[w + 1] = valW[2 * i + 1] as number
      stageI[w + 2] = lo
      stageI[w + 3] = end
      stageI[w + 4] = f
      stageI[w + 5] = valid[i] as number
      fill[bucket] = p + 1
      if (p + 1 === cap) this.apply(bucket)
    }
  }

  /** Apply every staged record. */
  flush(): void {
    for (let bk = 0; bk < this.fill.length; bk++) if ((this.fill[bk] as number) > 0) this.apply(bk)
  }

  /** Keeps the warm-up loads observable so they are not optimised away. */
  sink = 0

  private apply(bucket: number): void {
    const count = this.fill[bucket] as number
    this.fill[bucket] = 0
    const worker = this.worker
    if (worker !== undefined) {
      const buf = this.cur[bucket] as number
      worker.submit(bucket, buf, count)
      const next = buf ^ 1
      this.cur[bucket] = next
      this.bufBase[bucket] = (bucket * 2 + next) * this.cap
      worker.waitFree(bucket, next)
      return
    }
    const from = (this.bufBase[bucket] as number) * 6
    const first = this.warm ? bucket << this.shift : 0
    const last = this.warm ? Math.min(this.n, first + (1 << this.shift)) : 0
    this.sink += applyStaged(
      this.index.times,
      this.state,
      this.stateI,
      this.hasVal,
      this.stageF,
      this.stageI,
      from,
      from + count * 6,
      this.n,
      this.inclusive,
      this.byAvailable,
      first,
      last,
      this.F,
    )
  }

  /**
   * Renumber the string table to the codes still held — by a slot of this partition or a finished
   * row of an earlier one — and rewrite both. Everything staged is applied first (and, with the
   * worker, waited for), so no staged record holds an old code.
   */
  compactStrings(out: JoinOutput): void {
    this.flush()
    if (this.worker !== undefined) {
      for (let bk = 0; bk < this.fill.length; bk++) {
        this.worker.waitFree(bk, 0)
        this.worker.waitFree(bk, 1)
      }
    }
    const keep = new Uint8Array(out.strings.size)
    const { stateI, hasVal } = this
    const L = this.n
    const stringFeatures = this.features.map((f, i) => (f.kind === 2 ? i : -1)).filter((i) => i >= 0)
    for (const f of stringFeatures) {
      for (let s = f * L; s < (f + 1) * L; s++)
        if (hasVal[s] === 1) keep[stateI[(4 * s + 3) << 1] as number] = 1
      const col = out.features[f]
      if (col !== undefined) {
        for (let r = 0; r < col.valid.length; r++)
          if (col.valid[r] === 1) keep[col.words[2 * r] as number] = 1
      }
    }
    const remap = out.strings.compact(keep)
    for (const f of stringFeatures) {
      for (let s = f * L; s < (f + 1) * L; s++) {
        if (hasVal[s] === 1) stateI[(4 * s + 3) << 1] = remap[stateI[(4 * s + 3) << 1] as number] as number
      }
      const col = out.features[f]
      if (col !== undefined) {
        for (let r = 0; r < col.valid.length; r++) {
          if (col.valid[r] === 1) col.words[2 * r] = remap[col.words[2 * r] as number] as number
        }
      }
    }
  }

  /** Release the worker if the join stops early (no-op after `finish`). */
  dispose(): void {
    this.worker?.abort()
  }

  /** Prefix sweep per entity, then write each label's result into `out` at its input row. */
  finish(out: JoinOutput): void {
    this.flush()
    this.worker?.finish()
    const { entStart, perm, times: T } = this.index
    const { state, stateI, hasVal } = this
    const L = this.n
    const numEntities = entStart.length - 1
    for (let f = 0; f < this.F; f++) {
      const col = out.features[f]
      if (col === undefined) continue
      const words = col.words
      const extra = col.extra
      const maxAge = (this.features[f] as ResolvedFeature).maxAgeMs
      const base = f * L
      for (let c = 0; c < numEntities; c++) {
        let best = -1
        for (let j = entStart[c] as number, end = entStart[c + 1] as number; j < end; j++) {
          const s = base + j
          const e = state[4 * s] as number
          if (e !== Number.NEGATIVE_INFINITY) {
            if (best < 0) best = s
            else {
              const be = state[4 * best] as number
              const v = state[4 * s + 1] as number
              const bv = state[4 * best + 1] as number
              // core's compareRecord: a full tie (same eventTime and availableTime) always lands in
              // the same slot, where the later record in scan order already won, so no tie can span
              // two slots.
              if (
                compareRecord(e, v, state[4 * s + 2] as number, be, bv, state[4 * best + 2] as number) > 0
              ) {
                best = s
              }
            }
          }
          if (best < 0) continue
          const age = (T[j] as number) - (state[4 * best] as number)
          if (age > maxAge) continue
          const row = perm[j] as number
          if (extra) {
            col.found[row] = 1
            col.eventTime[row] = state[4 * best] as number
            col.age[row] = age
          }
          if (hasVal[best] === 1) {
            col.valid[row] = 1
            const sw = (4 * best + 3) << 1
            words[2 * row] = stateI[sw] as number
            words[2 * row + 1] = stateI[sw + 1] as number
          }
        }
      }
    }
  }
}
