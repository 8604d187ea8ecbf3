/**
 * Emission: the feature updates of one entity row, after a micro-batch touched it (`emitDirty`)
 * or when a timer fires as the watermark passes (`emitDecay`). Numeric features read their tiles
 * from the row in the group's slab; other aggregators from their `FeatureState`.
 *
 * Updates are built with `new` (`Update`, `TileUpdate`), never with object literals: V8 pretenures
 * an object literal's allocation site when one scavenge finds nearly all of its recent objects
 * alive, which happens when the scavenge lands inside the first batches' emission (the batch's
 * updates are all held by `out`). From then on every update is allocated in the old generation
 * and only a mark-compact frees it: `pnpm bench core` flipped between ~0.9 GB and ~2.4 GB
 * (docs/decisions/core-state-layout.md). Constructor calls carry no allocation site.
 *
 * Versions (docs/decisions/version.md): the version of a value at τ is the number of events of the
 * window at τ that the pair has absorbed (tiles: the tile's events; sessions: the open session's;
 * unbounded: all), never a count of emissions. All events a pair absorbs are at or before τ, and
 * they arrive in stream order whatever the micro-batches, so `(τ, version)` names one value: a
 * replay that cuts the batches otherwise than the run before a crash writes the same value under
 * the same `(eventTime, version)`, and a greater version at the same τ means more events.
 */

import type { ResolvedFeature } from './define-features.js'
import { type FeatureState, SessionState, TiledState, UNSET } from './feature-state.js'
import {
  F_CURSOR,
  F_LAST,
  F_LAST_STATE,
  F_VERSION,
  type GroupState,
  H_MAX_T,
  OP_COUNT,
  OP_MIN,
  OP_NONE,
  OP_SUM,
} from './group-state.js'
import type { FeatureUpdate, FeatureValue, HoppingWindow, TumblingWindow } from './types.js'

/**
 * A feature update (see the module comment for why it is a class). Fields are `declare`d so they
 * are assigned in the constructor only, in this order: one hidden class, like the literal it replaces.
 */
export class Update implements FeatureUpdate {
  declare entity: string
  declare feature: string
  declare value: FeatureValue
  declare eventTime: number
  declare version: number
  constructor(entity: string, feature: string, value: FeatureValue, eventTime: number, version: number) {
    this.entity = entity
    this.feature = feature
    this.value = value
    this.eventTime = eventTime
    this.version = version
  }
}

/** A feature update of an additive feature: one tile's partial aggregate. */
export class TileUpdate implements FeatureUpdate {
  declare entity: string
  declare feature: string
  declare value: FeatureValue
  declare eventTime: number
  declare version: number
  declare tileStart: number
  constructor(
    entity: string,
    feature: string,
    value: FeatureValue,
    eventTime: number,
    version: number,
    tileStart: number,
  ) {
    this.entity = entity
    this.feature = feature
    this.value = value
    this.eventTime = eventTime
    this.version = version
    this.tileStart = tileStart
  }
}

/**
 * After a micro-batch: push the updates of row `k` (entity `entity`), touched in batch `batchNo`,
 * at τ = max(cursor, the entity's greatest event time) — every changed value, or every touched
 * tile of an additive feature.
 */
export function emitDirty<E>(
  out: FeatureUpdate[],
  g: GroupState<E>,
  k: number,
  entity: string,
  batchNo: number,
): void {
  const feats = g.features
  const slab = g.slab
  const b = k * g.stride
  const keyMax = slab[b + H_MAX_T] as number
  for (let j = 0; j < feats.length; j++) {
    const f = feats[j] as ResolvedFeature<E>
    const op = g.op[j] as number
    if (op !== OP_NONE) {
      const o = b + (g.off[j] as number)
      const cursor = slab[o + F_CURSOR] as number
      const tau = Math.max(cursor, keyMax)
      slab[o + F_CURSOR] = tau
      if (f.emit === 'tiles') {
        const n = g.nTiles[j] as number
        const hop = g.hop[j] as number
        const tm = b + (g.touch[j] as number)
        const tv = b + (g.vals[j] as number)
        const ti = b + (g.ringOff[j] as number)
        for (let s = 0; s < n; s++) {
          if (slab[tm + s] !== batchNo) continue
          // The tile's event count (the ring's counts follow its tile indices).
          const version = slab[ti + n + s] as number
          out.push(
            new TileUpdate(
              entity,
              f.name,
              slab[tv + s] as number,
              tau,
              version,
              (slab[ti + s] as number) * hop,
            ),
          )
        }
        continue
      }
      const value = numericValue(g, j, b, tau)
      const version = valueVersion
      const ls = slab[o + F_LAST_STATE] as number
      // Without suppressUnchanged, an update whenever τ or the version moved, even to an equal value:
      // the last update of a pair must name (with its version) every event it has, or a replay cut
      // into other batches could leave a dead life's write of a later prefix above it.
      if (
        ls === 0 ||
        !sameNumeric(value, ls, slab[o + F_LAST] as number) ||
        (!f.suppressUnchanged && (tau > cursor || version !== slab[o + F_VERSION]))
      ) {
        emitNumeric(out, g, entity, f.name, o, value, tau, version)
      }
      continue
    }
    const st = (g.generic[k] as FeatureState[])[g.gen[j] as number] as FeatureState
    const tau = Math.max(st.cursor, keyMax)
    if (st instanceof TiledState && f.emit === 'tiles') {
      // User-defined additive aggregators (count and sum take the numeric path above).
      if (st.touchedBatch === batchNo && st.touched !== undefined) {
        const hop = g.hop[j] as number
        for (const slot of st.touched) {
          st.version = st.counts[slot] as number
          out.push(
            new TileUpdate(
              entity,
              f.name,
              f.aggregator.result(st.tiles[slot]),
              tau,
              st.version,
              (st.tileIdx[slot] as number) * hop,
            ),
          )
        }
        st.touched.length = 0
      }
      st.cursor = tau
      continue
    }
    const value = genericValue(g, j, st, tau)
    const version = genericVersion(g, j, st, tau)
    const advanced = tau > st.cursor
    st.cursor = tau
    if (
      st.last === UNSET ||
      value !== st.last ||
      (!f.suppressUnchanged && (advanced || version !== st.version))
    ) {
      st.last = value
      st.version = version
      out.push(new Update(entity, f.name, value, tau, version))
    }
  }
}

/** Version of the value the last `numericValue` call returned (a second result, without allocating). */
let valueVersion = 0

/**
 * Value at `t` of numeric feature `j` of the row at `b`: its tiles inside the window at `t`. Sets
 * `valueVersion` to its version: the events of those tiles (the ring's counts follow its indices).
 */
function numericValue<E>(g: GroupState<E>, j: number, b: number, t: number): number | null {
  const slab = g.slab
  const n = g.nTiles[j] as number
  const op = g.op[j] as number
  const k = Math.floor(t / (g.hop[j] as number))
  const lo = k - n
  const ti = b + (g.ringOff[j] as number)
  const tc = ti + n
  const tv = b + (g.vals[j] as number)
  let c = 0
  if (op === OP_COUNT || op === OP_SUM) {
    let s = 0
    for (let i = 0; i < n; i++) {
      const x = slab[ti + i] as number
      if (x > lo && x <= k) {
        s += slab[tv + i] as number
        c += slab[tc + i] as number
      }
    }
    valueVersion = c
    return s
  }
  // Min/max: a tile slot that only rejected values holds NaN (no value).
  let m = Number.NaN
  for (let i = 0; i < n; i++) {
    const x = slab[ti + i] as number
    if (x > lo && x <= k) {
      c += slab[tc + i] as number
      const v = slab[tv + i] as number
      if (Number.isNaN(v)) continue
      if (Number.isNaN(m) || (op === OP_MIN ? v < m : v > m)) m = v
    }
  }
  valueVersion = c
  return Number.isNaN(m) ? null : m
}

function emitNumeric<E>(
  out: FeatureUpdate[],
  g: GroupState<E>,
  entity: string,
  feature: string,
  o: number,
  value: number | null,
  tau: number,
  version: number,
) {
  const slab = g.slab
  slab[o + F_VERSION] = version
  slab[o + F_CURSOR] = tau
  if (value === null) slab[o + F_LAST_STATE] = 1
  else {
    slab[o + F_LAST_STATE] = 2
    slab[o + F_LAST] = value
  }
  out.push(new Update(entity, feature, value, tau, version))
}

function genericValue<E>(g: GroupState<E>, j: number, st: FeatureState, t: number): FeatureValue {
  const f = g.features[j] as ResolvedFeature<E>
  if (st instanceof TiledState) return st.valueAt(f.aggregator, f.window as TumblingWindow | HoppingWindow, t)
  if (st instanceof SessionState) return st.valueAt(f.aggregator, (f.window as { gapMs: number }).gapMs, t)
  return st.valueAt(f.aggregator)
}

function genericVersion<E>(g: GroupState<E>, j: number, st: FeatureState, t: number): number {
  const f = g.features[j] as ResolvedFeature<E>
  if (st instanceof TiledState) return st.versionAt(f.window as TumblingWindow | HoppingWindow, t)
  if (st instanceof SessionState) return st.versionAt((f.window as { gapMs: number }).gapMs, t)
  return st.n
}

/**
 * A timer of row `k` fired at `at` (a tile left a window, a session closed): push every value
 * that changed by then, at eventTime `at`.
 */
export function emitDecay<E>(out: FeatureUpdate[], g: GroupState<E>, k: number, at: number): void {
  const feats = g.features
  const slab = g.slab
  const b = k * g.stride
  const entity = g.entities[k] as string
  for (let j = 0; j < feats.length; j++) {
    const f = feats[j] as ResolvedFeature<E>
    if (f.emit === 'tiles') continue
    const op = g.op[j] as number
    if (op !== OP_NONE) {
      const o = b + (g.off[j] as number)
      if ((slab[o + F_CURSOR] as number) >= at) continue
      const value = numericValue(g, j, b, at)
      if (!sameNumeric(value, slab[o + F_LAST_STATE] as number, slab[o + F_LAST] as number)) {
        emitNumeric(out, g, entity, f.name, o, value, at, valueVersion)
      }
      continue
    }
    const st = (g.generic[k] as FeatureState[])[g.gen[j] as number] as FeatureState
    if (st instanceof SessionState) {
      if (st.timerAt !== at) continue
      const gap = (f.window as { gapMs: number }).gapMs
      const closes = st.closesAt(gap)
      if (closes > at) {
        st.timerAt = closes
        g.timers.add(closes, k)
        continue
      }
      st.timerAt = Number.NaN
    } else if (!(st instanceof TiledState)) continue
    if (st.cursor >= at) continue
    const value = genericValue(g, j, st, at)
    if (value !== st.last) {
      st.last = value
      st.cursor = at
      st.version = genericVersion(g, j, st, at)
      out.push(new Update(entity, f.name, value, at, st.version))
    }
  }
}

function sameNumeric(value: number | null, lastState: number, last: number): boolean {
  return value === null ? lastState === 1 : lastState === 2 && value === last
}
