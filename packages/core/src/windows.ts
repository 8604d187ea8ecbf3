/**
 * The one module that defines window boundaries. The stream operators, the backfill path, the
 * online additive reader and the as-of join all use it, so they agree on every edge.
 *
 * Conventions (all times in ms since epoch):
 * - Every interval is half-open: `[start, end)`. An event exactly at a window's end belongs to
 *   the next window.
 * - Tiles (hops) are aligned to the epoch: tile `k` covers `[k·hopMs, (k+1)·hopMs)`.
 * - The window *at* time `t` is the one whose last tile contains `t`:
 *   `[tileStart(t) + hopMs − sizeMs, tileStart(t) + hopMs)`. Its value is what a feature
 *   `…_last_<size>` holds at `t`. It changes only when an event arrives and at tile boundaries.
 * - A tile starting at `s` is part of the window at `t` iff `s <= t < s + sizeMs`, so it
 *   expires (and the feature decays) exactly at `s + sizeMs`.
 */
import { toMs } from './duration.js'
import { InvalidDefinitionError } from './errors.js'
import type {
  Duration,
  HoppingWindow,
  SessionWindow,
  TumblingWindow,
  UnboundedWindow,
  WindowSpec,
} from './types.js'

/** Tumbling windows of `size`. */
export function tumbling(size: Duration): TumblingWindow {
  const sizeMs = toMs(size, 'tumbling window size')
  if (sizeMs <= 0 || !Number.isInteger(sizeMs)) {
    throw new InvalidDefinitionError(
      `core: tumbling window size must be a whole number of ms > 0, got ${sizeMs}`,
    )
  }
  return { kind: 'tumbling', sizeMs, hopMs: sizeMs }
}

/**
 * Hopping (sliding) windows of `size` advancing by `hop`. Computed from per-hop tiles, so one
 * emission costs O(size / hop). `size` must be a whole multiple of `hop`.
 */
export function hopping(size: Duration, hop: Duration): HoppingWindow {
  const sizeMs = toMs(size, 'hopping window size')
  const hopMs = toMs(hop, 'hopping window hop')
  if (sizeMs <= 0 || !Number.isInteger(sizeMs)) {
    throw new InvalidDefinitionError(
      `core: hopping window size must be a whole number of ms > 0, got ${sizeMs}`,
    )
  }
  if (hopMs <= 0 || !Number.isInteger(hopMs)) {
    throw new InvalidDefinitionError(
      `core: hopping window hop must be a whole number of ms > 0, got ${hopMs}`,
    )
  }
  if (hopMs > sizeMs) {
    throw new InvalidDefinitionError(
      `core: hopping window hop (${hopMs} ms) is larger than its size (${sizeMs} ms): events between windows would be lost; use a hop <= size`,
    )
  }
  if (sizeMs % hopMs !== 0) {
    throw new InvalidDefinitionError(
      `core: hopping window size (${sizeMs} ms) must be a whole multiple of its hop (${hopMs} ms), e.g. size '5m' with hop '1m'`,
    )
  }
  if (sizeMs / hopMs > 10_000) {
    throw new InvalidDefinitionError(
      `core: hopping window has ${sizeMs / hopMs} tiles (size / hop); keep it <= 10000 by using a larger hop`,
    )
  }
  return { kind: 'hopping', sizeMs, hopMs }
}

/** Session windows closed by `gap` of inactivity. */
export function session(gap: Duration): SessionWindow {
  const gapMs = toMs(gap, 'session gap')
  if (gapMs <= 0) throw new InvalidDefinitionError(`core: session gap must be > 0 ms, got ${gapMs}`)
  return { kind: 'session', gapMs }
}

/** No window: the aggregate of every event so far (never decays). */
export function unbounded(): UnboundedWindow {
  return { kind: 'unbounded' }
}

/** Start of the tile containing `t`. */
export function tileStart(t: number, hopMs: number): number {
  return Math.floor(t / hopMs) * hopMs
}

/** Index of the tile containing `t` (`tileStart / hopMs`). */
export function tileIndex(t: number, hopMs: number): number {
  return Math.floor(t / hopMs)
}

/** A half-open interval `[start, end)`. */
export interface TimeInterval {
  /** Inclusive start (ms). */
  start: number
  /** Exclusive end (ms). */
  end: number
}

/**
 * The window of a tumbling or hopping spec at instant `t`: `[end − sizeMs, end)` where
 * `end = tileStart(t) + hopMs`. For unbounded windows `[-Infinity, Infinity)`.
 * @throws InvalidDefinitionError for session windows, whose extent depends on the events.
 */
export function windowAt(t: number, spec: WindowSpec): TimeInterval {
  if (spec.kind === 'unbounded') return { start: Number.NEGATIVE_INFINITY, end: Number.POSITIVE_INFINITY }
  if (spec.kind === 'session') {
    throw new InvalidDefinitionError(
      'core: session windows have no fixed extent: use sessionValueAt semantics',
    )
  }
  const end = tileStart(t, spec.hopMs) + spec.hopMs
  return { start: end - spec.sizeMs, end }
}

/** Number of tiles in a tumbling or hopping window (1 for tumbling). */
export function tilesPerWindow(spec: TumblingWindow | HoppingWindow): number {
  return spec.sizeMs / spec.hopMs
}

/** The instant at which the tile starting at `tileStartMs` leaves the window (the feature decays). */
export function tileExpiry(tileStartMs: number, spec: TumblingWindow | HoppingWindow): number {
  return tileStartMs + spec.sizeMs
}

/** Whether an event at `eventTime` counts in the window at instant `t` (tumbling / hopping / unbounded). */
export function inWindowAt(eventTime: number, t: number, spec: WindowSpec): boolean {
  if (spec.kind === 'unbounded') return eventTime <= t
  const w = windowAt(t, spec)
  return eventTime >= w.start && eventTime < w.end && eventTime <= t
}

/**
 * The as-of visibility rule used by time travel and the as-of join: a record stamped `time` is
 * visible at instant `t` when `time <= t` (inclusive, the default) or `time < t` (strict).
 */
export function visibleAt(time: number, t: number, inclusive = true): boolean {
  return inclusive ? time <= t : time < t
}
