/**
 * State of one feature group: every entity gets a dense index `k`, and all numeric state of the
 * entity (its max event time, and for count/sum/min/max over tumbling or hopping windows the
 * tiles, cursor, version and last value) lives in one row of a shared `Float64Array` slab.
 *
 * Why: with 100k entities, a per-entity object graph (entity → states array → state object →
 * typed arrays) costs ~5 cache misses per event per feature; one slab row costs ~1-2 per event.
 * Numeric features with the same window shape (hop and tile count) share one ring of tile indices,
 * and the fields an event touches (header, rings, tile values) come first in the row, so an event
 * touches as few cache lines as possible (docs/decisions/core-state-layout.md).
 * Other aggregators (mean, last, distinct count, user-defined) and session / unbounded windows keep
 * per-entity objects (`FeatureState`), referenced from `generic[k]`.
 */

import type { FeatureGroup, ResolvedFeature } from './define-features.js'
import { type FeatureState, SessionState, TiledState, UnboundedState } from './feature-state.js'
import { TimerQueue } from './timer-queue.js'

/** Numeric fast paths: tiles merged inline without calling the aggregator. */
export const OP_NONE = -1
export const OP_COUNT = 0
export const OP_SUM = 1
export const OP_MIN = 2
export const OP_MAX = 3

/** Row header: [0] max event time, [1] batch mark (dirty), [2] last scheduled timer. */
export const H_MAX_T = 0
export const H_DIRTY = 1
export const H_TIMER = 2
const HEADER = 3

/**
 * Row layout: header, then per window shape one ring of `n` tile indices followed by the `n`
 * tiles' event counts (events of the row added to that tile: versions count them, see
 * docs/decisions/version.md), then `n` tile values
 * per numeric feature, then per numeric feature its meta fields at offset `off[j]`: [o] cursor,
 * [o+1] version, [o+2] last value, [o+3] last state (0 unset, 1 null, 2 number); last, `n` touched
 * marks (batch number) per additive (`emit: 'tiles'`) feature. A tile slot of a value holds the
 * identity (0 for count/sum, NaN for min/max) until an event adds to it.
 */
export const F_CURSOR = 0
export const F_VERSION = 1
export const F_LAST = 2
export const F_LAST_STATE = 3
const META = 4

/** Numeric fast path of a feature, or `OP_NONE`. */
export function numericOpOf<E>(f: ResolvedFeature<E>): number {
  const w = f.window
  if (w.kind !== 'tumbling' && w.kind !== 'hopping') return OP_NONE
  switch (f.aggregator.kind) {
    case 'count':
      return OP_COUNT
    case 'sum':
      return OP_SUM
    case 'min':
      return f.emit === 'tiles' ? OP_NONE : OP_MIN
    case 'max':
      return f.emit === 'tiles' ? OP_NONE : OP_MAX
    default:
      return OP_NONE
  }
}

/** Runtime of one feature group. */
export class GroupState<E> {
  readonly group: FeatureGroup<E>
  readonly features: readonly ResolvedFeature<E>[]
  readonly names: readonly string[]
  /**
   * Per feature: numeric op (or OP_NONE); offsets in the row of its meta fields, tile values, tile
   * ring and touched marks (-1 when it has none); tiles per window, hop, size; ring number; index
   * in `generic` (-1 for numeric features).
   */
  readonly op: Int32Array
  readonly off: Int32Array
  readonly vals: Int32Array
  readonly ringOff: Int32Array
  readonly touch: Int32Array
  readonly ringOf: Int32Array
  readonly nTiles: Int32Array
  readonly hop: Float64Array
  readonly size: Float64Array
  readonly gen: Int32Array
  readonly genCount: number
  /**
   * Per ring (window shape shared by numeric features): row offset of its tile indices (the tiles'
   * event counts follow at `off + n`), tiles, hop, size, whether its tiles schedule decay timers.
   */
  readonly rings: { off: number; n: number; hop: number; size: number; timers: boolean }[]
  /** Scratch of the operator: per ring, the tile slot of the event being applied (-1: older than the ring). */
  readonly ringSlot: Int32Array
  readonly stride: number
  /** Largest window extent (size or gap), `Infinity` with an unbounded feature: bounds eviction. */
  readonly extentMs: number
  readonly timers = new TimerQueue<number>()
  index = new Map<string, number>()
  entities: (string | undefined)[] = []
  generic: (FeatureState[] | undefined)[] = []
  slab: Float64Array
  cap = 0
  /** High-water mark of allocated rows. */
  used = 0
  /** Rows freed by eviction, reused LIFO. */
  free: number[] = []

  constructor(group: FeatureGroup<E>) {
    this.group = group
    this.features = group.features
    this.names = group.features.map((f) => f.name)
    const nf = this.features.length
    this.op = new Int32Array(nf)
    this.off = new Int32Array(nf).fill(-1)
    this.vals = new Int32Array(nf).fill(-1)
    this.ringOff = new Int32Array(nf).fill(-1)
    this.touch = new Int32Array(nf).fill(-1)
    this.ringOf = new Int32Array(nf).fill(-1)
    this.nTiles = new Int32Array(nf)
    this.hop = new Float64Array(nf)
    this.size = new Float64Array(nf)
    this.gen = new Int32Array(nf).fill(-1)
    this.rings = []
    let genCount = 0
    let extentMs = 0
    this.features.forEach((f, j) => {
      const w = f.window
      const op = numericOpOf(f)
      this.op[j] = op
      if (w.kind === 'tumbling' || w.kind === 'hopping') {
        this.nTiles[j] = w.sizeMs / w.hopMs
        this.hop[j] = w.hopMs
        this.size[j] = w.sizeMs
      }
      if (op !== OP_NONE) {
        const n = this.nTiles[j] as number
        const hop = this.hop[j] as number
        let r = this.rings.findIndex((x) => x.n === n && x.hop === hop)
        if (r < 0) {
          r = this.rings.length
          this.rings.push({ off: -1, n, hop, size: this.size[j] as number, timers: false })
        }
        this.ringOf[j] = r
        if (f.emit === 'value') (this.rings[r] as { timers: boolean }).timers = true
      } else {
        this.gen[j] = genCount++
      }
      const ext =
        w.kind === 'session' ? w.gapMs : w.kind === 'unbounded' ? Number.POSITIVE_INFINITY : w.sizeMs
      if (ext > extentMs) extentMs = ext
    })
    // Hot fields first: what every event touches (header, rings, tile values), then what only
    // emission reads (meta), then the touched marks of additive features.
    let stride = HEADER
    for (const ring of this.rings) {
      ring.off = stride
      stride += 2 * ring.n
    }
    const numeric = [...this.features.keys()].filter((j) => this.op[j] !== OP_NONE)
    for (const j of numeric) {
      this.ringOff[j] = (this.rings[this.ringOf[j] as number] as { off: number }).off
      this.vals[j] = stride
      stride += this.nTiles[j] as number
    }
    for (const j of numeric) {
      this.off[j] = stride
      stride += META
    }
    for (const j of numeric) {
      if ((this.features[j] as ResolvedFeature<E>).emit !== 'tiles') continue
      this.touch[j] = stride
      stride += this.nTiles[j] as number
    }
    this.stride = stride
    this.ringSlot = new Int32Array(this.rings.length)
    this.genCount = genCount
    this.extentMs = extentMs
    this.slab = new Float64Array(0)
    this.grow(1024)
  }

  /** Row of `entity`, creating it when new. */
  rowOf(entity: string): number {
    const k = this.index.get(entity)
    return k === undefined ? this.create(entity) : k
  }

  /** Allocate a row for a new entity. */
  create(entity: string): number {
    let k: number
    if (this.free.length > 0) k = this.free.pop() as number
    else {
      if (this.used === this.cap) this.grow(this.cap * 2)
      k = this.used++
    }
    this.initRow(k)
    this.index.set(entity, k)
    this.entities[k] = entity
    if (this.genCount > 0) this.generic[k] = this.newGeneric()
    return k
  }

  /** Reset row `k` to the empty state. */
  initRow(k: number): void {
    const s = this.slab
    const b = k * this.stride
    s.fill(0, b, b + this.stride)
    s[b + H_MAX_T] = Number.NEGATIVE_INFINITY
    s[b + H_DIRTY] = 0
    s[b + H_TIMER] = Number.NaN
    for (const ring of this.rings) s.fill(Number.NaN, b + ring.off, b + ring.off + ring.n)
    for (let j = 0; j < this.features.length; j++) {
      const o = this.off[j] as number
      if (o < 0) continue
      const n = this.nTiles[j] as number
      const op = this.op[j] as number
      if (op === OP_MIN || op === OP_MAX)
        s.fill(Number.NaN, b + (this.vals[j] as number), b + (this.vals[j] as number) + n)
      s[b + o + F_CURSOR] = Number.NEGATIVE_INFINITY
      const t = this.touch[j] as number
      if (t >= 0) s.fill(-1, b + t, b + t + n)
    }
  }

  /** Forget row `k` (its entity can no longer change). */
  evict(k: number): void {
    const entity = this.entities[k] as string
    this.index.delete(entity)
    this.entities[k] = undefined
    this.generic[k] = undefined
    this.free.push(k)
  }

  newGeneric(): FeatureState[] {
    const out: FeatureState[] = []
    for (let j = 0; j < this.features.length; j++) {
      if ((this.gen[j] as number) < 0) continue
      const f = this.features[j] as ResolvedFeature<E>
      const w = f.window
      if (w.kind === 'tumbling' || w.kind === 'hopping')
        out.push(new TiledState(w.sizeMs / w.hopMs, f.emit === 'tiles'))
      else if (w.kind === 'session') out.push(new SessionState())
      else out.push(new UnboundedState())
    }
    return out
  }

  /** Make room for at least `rows` rows. */
  reserve(rows: number): void {
    let cap = this.cap
    while (cap < rows) cap *= 2
    if (cap !== this.cap) this.grow(cap)
  }

  private grow(cap: number): void {
    const next = new Float64Array(cap * this.stride)
    next.set(this.slab)
    this.slab = next
    this.cap = cap
  }
}
