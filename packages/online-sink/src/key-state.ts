/**
 * Per-key state of the sink, laid out for the hot path: one table per feature keyed by the entity
 * string itself (additive features: one table per tile), so a lookup hashes a string the pipeline
 * already holds (V8 caches a string's hash) instead of building a composite key per update; key state
 * objects are pooled, so a steady stream allocates nothing per update.
 */
import type { FeatureUpdate } from '@skewless/core'
import type { ResolvedFeatureConfig } from './feature-config.js'

/** Per-key state. A key state is in the send queue iff `pending !== undefined && !busy`. */
export interface KeyState {
  /** Entity of the key. */
  entity: string
  /** The table that holds this key state (the feature's, or its tile's). */
  table: Map<string, KeyState>
  /** The feature's lane. */
  lane: FeatureLane
  /** Tile start for additive features, else NaN. */
  tile: number
  /** The update waiting to be sent; a newer one replaces it (coalescing). */
  pending: FeatureUpdate | undefined
  /**
   * Flush epoch of the oldest update `pending` stands for (a coalesced update's flush waits for the
   * update that replaced it). Meaningless while `pending` is undefined.
   */
  epoch: number
  /** A write of this key is at the store: the next one waits (per-key order). */
  busy: boolean
  /** Listed in the pool's idle list (it may have been reused since). */
  listed: boolean
}

/** The key state tables of one feature. */
export class FeatureLane {
  /** `false` for `upsert` (later arrival wins), `true` for `cas`/`additive` (greater (eventTime, version) wins). */
  readonly ordered: boolean
  readonly additive: boolean
  readonly byEntity = new Map<string, KeyState>()
  readonly byTile = new Map<number, Map<string, KeyState>>()

  constructor(readonly config: ResolvedFeatureConfig) {
    this.ordered = config.strategy !== 'upsert'
    this.additive = config.strategy === 'additive'
  }

  /** The table for an update's tile (created on demand). */
  tileTable(tileStart: number): Map<string, KeyState> {
    let t = this.byTile.get(tileStart)
    if (t === undefined) {
      t = new Map()
      this.byTile.set(tileStart, t)
    }
    return t
  }
}

/**
 * Key state lifecycle. An idle key state (no pending update, not busy) stays in its table, so a key that comes
 * back soon costs one `Map.get` instead of a `delete` and a `set`; once more than `maxIdle` key states
 * went idle, every key state still idle is evicted in one sweep (amortized O(1) per write) and its object
 * kept on a free list for reuse.
 */
export class KeyStatePool {
  private readonly free: KeyState[] = []
  private idle: KeyState[] = []

  constructor(private readonly maxIdle: number) {}

  /** A key state for a new key holding `pending` (written in flush epoch `epoch`), registered in `table`. */
  take(
    lane: FeatureLane,
    table: Map<string, KeyState>,
    entity: string,
    tile: number,
    pending: FeatureUpdate,
    epoch: number,
  ): KeyState {
    let s = this.free.pop()
    if (s === undefined) s = { entity, table, lane, tile, pending, epoch, busy: false, listed: false }
    else {
      s.entity = entity
      s.table = table
      s.lane = lane
      s.tile = tile
      s.pending = pending
      s.epoch = epoch
      s.busy = false
    }
    table.set(entity, s)
    return s
  }

  /** A key state became idle (no pending update, not busy): keep it for a while. */
  park(s: KeyState): void {
    if (!s.listed) {
      s.listed = true
      this.idle.push(s)
    }
    if (this.idle.length > this.maxIdle) this.sweep()
  }

  /** Evict every key state that is still idle. */
  sweep(): void {
    const idle = this.idle
    this.idle = []
    for (let i = 0; i < idle.length; i++) {
      const s = idle[i] as KeyState
      s.listed = false
      if (s.pending !== undefined || s.busy) continue
      s.table.delete(s.entity)
      if (s.lane.additive && s.table.size === 0) s.lane.byTile.delete(s.tile)
      if (this.free.length < 65_536) this.free.push(s)
    }
  }
}
