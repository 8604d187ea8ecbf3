/**
 * Per (entity, feature) operator state. Three shapes:
 * - `TiledState` (tumbling, hopping): a ring of `n = size / hop` tiles (partial aggregates); the
 *   value at `t` merges the tiles of the window at `t` (windows.ts), O(n) per emission.
 * - `SessionState`: the sessions that can still grow or merge, each with its accumulator.
 * - `UnboundedState`: one accumulator.
 * Every shape keeps the emission cursor (event time of the last emitted update), the version of
 * the last emitted update and the last emitted value, and counts the events it holds, for versions:
 * the version of a value at `t` is the number of events in the window at `t` (per tile, per
 * session, in all), see docs/decisions/version.md.
 */
import type { Aggregator, FeatureValue, HoppingWindow, TumblingWindow } from './types.js'

/** Marker for "nothing emitted yet". */
export const UNSET: unique symbol = Symbol('unset')

/** Fields shared by every state shape. */
export abstract class EmitState {
  /** Event time of the last emitted update (`-Infinity` before the first). */
  cursor = Number.NEGATIVE_INFINITY
  /** Version of the last emitted update (0 before the first; see `versionAt`). */
  version = 0
  /** Last emitted value. */
  last: FeatureValue | typeof UNSET = UNSET
}

/** Ring of tiles for tumbling and hopping windows. */
export class TiledState extends EmitState {
  readonly tiles: unknown[]
  /** Tile index held by each slot; `NaN` when the slot is empty. */
  readonly tileIdx: Float64Array
  /** Events added to the tile of each slot (the version of a tile update). */
  readonly counts: Float64Array
  /** Slots touched in the current batch (tiles emission mode only). */
  touched: number[] | undefined
  /** Batch number that filled `touched`. */
  touchedBatch = -1

  constructor(n: number, trackTouched: boolean) {
    super()
    this.tiles = new Array(n)
    this.tileIdx = new Float64Array(n).fill(Number.NaN)
    this.counts = new Float64Array(n)
    this.touched = trackTouched ? [] : undefined
  }

  /**
   * Add a value to tile `k`. Returns the tile's start when the tile was empty (so the caller
   * schedules its expiry), `NaN` otherwise or when the tile is older than the ring (ignored: it
   * can no longer be part of any window the feature will emit).
   */
  add(agg: Aggregator, k: number, hopMs: number, value: unknown, eventTime: number, batch: number): number {
    const n = this.tileIdx.length
    const slot = ((k % n) + n) % n
    const held = this.tileIdx[slot] as number
    let fresh = Number.NaN
    if (held !== k) {
      if (held > k) return Number.NaN
      this.tileIdx[slot] = k
      this.tiles[slot] = agg.add(agg.init(), value, eventTime)
      this.counts[slot] = 1
      fresh = k * hopMs
    } else {
      this.tiles[slot] = agg.add(this.tiles[slot], value, eventTime)
      this.counts[slot] = (this.counts[slot] as number) + 1
    }
    const touched = this.touched
    if (touched !== undefined) {
      if (this.touchedBatch !== batch) {
        this.touchedBatch = batch
        touched.length = 0
      }
      if (!touched.includes(slot)) touched.push(slot)
    }
    return fresh
  }

  /** The window's value at instant `t`. */
  valueAt(agg: Aggregator, window: TumblingWindow | HoppingWindow, t: number): FeatureValue {
    const n = this.tileIdx.length
    const k = Math.floor(t / window.hopMs)
    const lo = k - n
    const idx = this.tileIdx
    if (n === 1) {
      return idx[0] === k ? agg.result(this.tiles[0]) : agg.result(agg.init())
    }
    let acc = agg.init()
    for (let s = 0; s < n; s++) {
      const ti = idx[s] as number
      if (ti > lo && ti <= k) acc = agg.merge(acc, this.tiles[s])
    }
    return agg.result(acc)
  }

  /** Version of the value at `t`: the number of events in the tiles of the window at `t`. */
  versionAt(window: TumblingWindow | HoppingWindow, t: number): number {
    const n = this.tileIdx.length
    const k = Math.floor(t / window.hopMs)
    const lo = k - n
    let c = 0
    for (let s = 0; s < n; s++) {
      const ti = this.tileIdx[s] as number
      if (ti > lo && ti <= k) c += this.counts[s] as number
    }
    return c
  }
}

/** One session: events whose gaps are all smaller than the session gap. */
export interface Session {
  /** Earliest event time. */
  start: number
  /** Latest event time (inclusive); the session closes at `end + gap`. */
  end: number
  /** Accumulator of its events. */
  acc: unknown
  /** Number of its events. */
  n: number
}

/** Sessions of one (entity, feature), sorted by start. */
export class SessionState extends EmitState {
  sessions: Session[] = []
  /** Instant of the pending close timer, `NaN` when none. */
  timerAt = Number.NaN

  /** Add an event, merging every session it bridges. */
  add(agg: Aggregator, gapMs: number, value: unknown, t: number): void {
    const ss = this.sessions
    let i = 0
    while (i < ss.length && (ss[i] as Session).end + gapMs <= t) i++
    // ss[i..j) are the sessions within `gap` of t: they merge with it.
    let j = i
    while (j < ss.length && (ss[j] as Session).start - gapMs < t) j++
    if (i === j) {
      ss.splice(i, 0, { start: t, end: t, acc: agg.add(agg.init(), value, t), n: 1 })
      return
    }
    const first = ss[i] as Session
    for (let m = i + 1; m < j; m++) {
      const s = ss[m] as Session
      first.acc = agg.merge(first.acc, s.acc)
      first.n += s.n
      if (s.end > first.end) first.end = s.end
    }
    if (j - i > 1) ss.splice(i + 1, j - i - 1)
    first.acc = agg.add(first.acc, value, t)
    first.n++
    if (t < first.start) first.start = t
    if (t > first.end) first.end = t
  }

  /** Value at `t` (every known event is at or before `t`): the last session while open, else empty. */
  valueAt(agg: Aggregator, gapMs: number, t: number): FeatureValue {
    const last = this.sessions[this.sessions.length - 1]
    if (last !== undefined && t < last.end + gapMs && t >= last.start) return agg.result(last.acc)
    return agg.result(agg.init())
  }

  /** Version of the value at `t`: the number of events of the session open at `t`, 0 when none is. */
  versionAt(gapMs: number, t: number): number {
    const last = this.sessions[this.sessions.length - 1]
    return last !== undefined && t < last.end + gapMs && t >= last.start ? last.n : 0
  }

  /** Instant the last session closes, or `NaN`. */
  closesAt(gapMs: number): number {
    const last = this.sessions[this.sessions.length - 1]
    return last === undefined ? Number.NaN : last.end + gapMs
  }

  /** Forget sessions that no accepted event can reach any more (all but the last). */
  prune(gapMs: number, minAcceptedTime: number): void {
    const ss = this.sessions
    let k = 0
    while (k < ss.length - 1 && (ss[k] as Session).end + gapMs <= minAcceptedTime) k++
    if (k > 0) ss.splice(0, k)
  }
}

/** All events since the start. */
export class UnboundedState extends EmitState {
  acc: unknown = undefined
  empty = true
  /** Number of events added (the version of its value). */
  n = 0

  add(agg: Aggregator, value: unknown, t: number): void {
    if (this.empty) {
      this.acc = agg.init()
      this.empty = false
    }
    this.acc = agg.add(this.acc, value, t)
    this.n++
  }

  valueAt(agg: Aggregator): FeatureValue {
    return this.empty ? agg.result(agg.init()) : agg.result(this.acc)
  }
}

/** Any state shape. */
export type FeatureState = TiledState | SessionState | UnboundedState
