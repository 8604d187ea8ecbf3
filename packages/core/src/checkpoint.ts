/**
 * Checkpoints: the operator's whole state as a plain JSON-serializable object, and back.
 * Timers are not stored: they are rebuilt from the tiles and sessions. Entity rows keep their
 * index (timers fire in row order) and the free-row list is kept, so a restored operator emits
 * exactly what the uninterrupted one would have.
 */

import { errorMessage } from './error-message.js'
import { CheckpointMismatchError } from './errors.js'
import { type FeatureState, SessionState, TiledState, UNSET, UnboundedState } from './feature-state.js'
import { type GroupState, H_TIMER } from './group-state.js'
import type { WindowOperator } from './operator.js'
import type { Aggregator, FeatureValue } from './types.js'

/**
 * Format tag of checkpoints written by this version. Format 3: versions count the events of the
 * window (docs/decisions/version.md), so the state holds per-tile and per-session event counts.
 */
export const CHECKPOINT_FORMAT = 'skewless.core.checkpoint/3'

/** Format 2 counted emissions in its versions and has no event counts: it cannot be resumed. */
const EMISSION_VERSION_FORMAT = 'skewless.core.checkpoint/2'

/**
 * Serialized object state of one (entity, feature) whose state is not in the numeric row: tiles
 * as `[tile index, accumulator, events]`, sessions as `[start, end, accumulator, events]`, an
 * unbounded window's accumulator and events `n`.
 */
export type FeatureStateData =
  | { k: 'tiled'; c: Num; v: number; l?: FeatureValue; t: [number, unknown, number][] }
  | { k: 'session'; c: Num; v: number; l?: FeatureValue; s: [number, number, unknown, number][]; ta: Num }
  | { k: 'unbounded'; c: Num; v: number; l?: FeatureValue; a?: unknown; n: number }

/** A number that may not be finite: `'NaN'`, `'Infinity'` and `'-Infinity'` are spelled out. */
export type Num = number | 'NaN' | 'Infinity' | '-Infinity'

/** Serialized entity: `[row, entity, numeric row, object states]`. */
export type EntityData = [number, string, Num[], FeatureStateData[]]

/** Serialized feature group. */
export interface GroupData {
  /** Rows allocated so far. */
  used: number
  /** Free rows, in reuse order. */
  free: number[]
  /** Live entities. */
  entities: EntityData[]
}

/** A checkpoint: plain data, safe for `JSON.stringify`. */
export interface CheckpointData {
  /** Format tag, see `CHECKPOINT_FORMAT`. */
  format: string
  /** The feature definitions it was taken with (name, window, aggregate, emit, type per feature). */
  signature: string
  /** Watermark at the snapshot. */
  watermark: Num
  /** Number of micro-batches processed. */
  batchNo: number
  /** Greatest event time per source. */
  sourceMax: Num[]
  /** Counters. */
  counters: {
    eventsIn: number
    eventsApplied: number
    lateEvents: number
    deadLetters: number
    updatesOut: number
  }
  /** State per feature group. */
  groups: GroupData[]
}

const enc = (x: number): Num =>
  Number.isFinite(x) ? x : Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity'
const dec = (x: Num): number => (typeof x === 'number' ? x : Number(x))

function signatureOf<E>(op: WindowOperator<E>): string {
  return JSON.stringify(
    op.groups.map((g) => g.features.map((f) => [f.name, f.window, f.aggregator.kind, f.emit, f.valueType])),
  )
}

const toJSON = (agg: Aggregator, acc: unknown): unknown =>
  agg.toJSON ? agg.toJSON(acc) : structuredClone(acc)
const fromJSON = (agg: Aggregator, j: unknown): unknown =>
  agg.fromJSON ? agg.fromJSON(j) : structuredClone(j)

/** @internal */
export function snapshotOperator<E>(
  op: WindowOperator<E>,
  watermark: number,
  batchNo: number,
): CheckpointData {
  return captureOperator(op, watermark, batchNo).toData()
}

/**
 * @internal A copy of the operator state at a batch boundary, taken cheaply (each group's numeric
 * slab is copied as one block, entity names and free rows as flat arrays; only object states, which
 * the operator mutates in place, are serialized now) and turned into `CheckpointData` later, once,
 * by `toData()`: a checkpoint pauses the stream for the copy, not for building the plain-data tree.
 * `toData()` gives exactly what `snapshotOperator` at the capture would have.
 */
export interface CapturedOperator {
  /** The checkpoint as of the capture. */
  toData(): CheckpointData
}

interface CapturedGroup {
  used: number
  stride: number
  slab: Float64Array
  entities: (string | undefined)[]
  free: number[]
  /** Serialized object states per row (rows without an entity: undefined); empty without object states. */
  generic: (FeatureStateData[] | undefined)[]
}

/** @internal */
export function captureOperator<E>(
  op: WindowOperator<E>,
  watermark: number,
  batchNo: number,
): CapturedOperator {
  const head = {
    format: CHECKPOINT_FORMAT,
    signature: signatureOf(op),
    watermark: enc(watermark),
    batchNo,
    sourceMax: op.sourceMax.map(enc),
    counters: { ...op.counters },
  }
  const groups = op.groups.map((g) => captureGroup(g))
  let done = false
  return {
    toData: () => {
      // One-shot: the slab copies go back to their groups for the next capture.
      if (done) throw new Error('CapturedOperator.toData() called twice')
      done = true
      const data = { ...head, groups: groups.map(groupData) }
      op.groups.forEach((g, i) => {
        spareSlabs.set(g, (groups[i] as CapturedGroup).slab)
      })
      return data
    },
  }
}

/**
 * Per group, the slab copy of its last capture once made into data: the next capture copies into it
 * (when large enough) instead of allocating a fresh block, whose page faults and zeroing made the
 * copy several times slower. Taken out while a capture holds it, so two captures never share one.
 */
const spareSlabs = new WeakMap<object, Float64Array>()

function copySlab<E>(g: GroupState<E>): Float64Array {
  const n = g.used * g.stride
  const spare = spareSlabs.get(g)
  spareSlabs.delete(g)
  // A new block as large as the slab's capacity: captures fit in it until the slab itself grows.
  const block =
    spare !== undefined && spare.buffer.byteLength >= n * 8
      ? spare.buffer
      : new ArrayBuffer(g.slab.length * 8)
  const out = new Float64Array(block, 0, n)
  out.set(g.slab.subarray(0, n))
  return out
}

function captureGroup<E>(g: GroupState<E>): CapturedGroup {
  const generic: (FeatureStateData[] | undefined)[] = []
  if (g.genCount > 0) {
    for (let k = 0; k < g.used; k++) {
      if (g.entities[k] === undefined) continue
      generic[k] = (g.generic[k] ?? []).map((st, i) => stateToData(st, genericAggregator(g, i)))
    }
  }
  return {
    used: g.used,
    stride: g.stride,
    slab: copySlab(g),
    entities: g.entities.slice(0, g.used),
    free: g.free.slice(),
    generic,
  }
}

function groupData(g: CapturedGroup): GroupData {
  const entities: EntityData[] = []
  const { slab, stride } = g
  for (let k = 0; k < g.used; k++) {
    const entity = g.entities[k]
    if (entity === undefined) continue
    // A plain loop: Array.from with a callback per cell made a 9k-entity snapshot take ~250 ms.
    const row: Num[] = new Array(stride)
    const base = k * stride
    for (let c = 0; c < stride; c++) {
      const x = slab[base + c] as number
      row[c] = x - x === 0 ? x : enc(x)
    }
    entities.push([k, entity, row, g.generic[k] ?? []])
  }
  return { used: g.used, free: g.free.slice(), entities }
}

function genericAggregator<E>(g: GroupState<E>, genIndex: number): Aggregator {
  for (let j = 0; j < g.features.length; j++) {
    if (g.gen[j] === genIndex) return (g.features[j] as { aggregator: Aggregator }).aggregator
  }
  throw new CheckpointMismatchError(`core: no feature for object state #${genIndex}`)
}

function stateToData(st: FeatureState, agg: Aggregator): FeatureStateData {
  const base = { c: enc(st.cursor), v: st.version, ...(st.last === UNSET ? {} : { l: st.last }) }
  if (st instanceof TiledState) {
    const t: [number, unknown, number][] = []
    for (let s = 0; s < st.tileIdx.length; s++) {
      const idx = st.tileIdx[s] as number
      if (!Number.isNaN(idx)) t.push([idx, toJSON(agg, st.tiles[s]), st.counts[s] as number])
    }
    return { k: 'tiled', ...base, t }
  }
  if (st instanceof SessionState) {
    return {
      k: 'session',
      ...base,
      s: st.sessions.map((x) => [x.start, x.end, toJSON(agg, x.acc), x.n]),
      ta: enc(st.timerAt),
    }
  }
  return { k: 'unbounded', ...base, ...(st.empty ? {} : { a: toJSON(agg, st.acc) }), n: st.n }
}

/** @internal */
export function restoreOperator<E>(
  op: WindowOperator<E>,
  data: CheckpointData,
): { watermark: number; batchNo: number } {
  if (data?.format === EMISSION_VERSION_FORMAT) {
    throw new CheckpointMismatchError(
      errorMessage(
        'core',
        `checkpoint format '${EMISSION_VERSION_FORMAT}' numbers updates by emission and this version ('${CHECKPOINT_FORMAT}') cannot resume it: rebuild the state by reprocessing the source from its start`,
        { readme: 'core' },
      ),
    )
  }
  if (!data || data.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointMismatchError(
      `core: checkpoint format '${String(data?.format)}' is not '${CHECKPOINT_FORMAT}': take a new checkpoint with this version`,
    )
  }
  if (data.signature !== signatureOf(op)) {
    throw new CheckpointMismatchError(
      'core: checkpoint was taken with different feature definitions (names, windows, aggregators): restore it into a pipeline defined the same way',
    )
  }
  if (data.sourceMax.length !== op.sourceMax.length) {
    throw new CheckpointMismatchError(
      `core: checkpoint has ${data.sourceMax.length} sources, the pipeline ${op.sourceMax.length}: use the same number of sources`,
    )
  }
  const watermark = dec(data.watermark)
  op.sourceMax = data.sourceMax.map(dec)
  op.sourceIdle = op.sourceMax.map(() => false)
  Object.assign(op.counters, data.counters)
  op.groups.forEach((g, gi) => {
    restoreGroup(g, data.groups[gi] ?? { used: 0, free: [], entities: [] }, watermark)
  })
  return { watermark, batchNo: data.batchNo }
}

function restoreGroup<E>(g: GroupState<E>, d: GroupData, watermark: number): void {
  g.timers.clear()
  g.reserve(d.used)
  g.index.clear()
  g.entities = []
  g.generic = []
  g.used = d.used
  g.free = d.free.slice()
  for (const [k, entity, row, gen] of d.entities) {
    if (row.length !== g.stride)
      throw new CheckpointMismatchError('core: checkpoint row layout does not match the features')
    g.slab.set(row.map(dec), k * g.stride)
    g.index.set(entity, k)
    g.entities[k] = entity
    if (g.genCount > 0) {
      const states = g.newGeneric()
      gen.forEach((sd, i) => {
        dataToState(states[i] as FeatureState, sd, genericAggregator(g, i))
      })
      g.generic[k] = states
    }
    rebuildTimers(g, k, watermark)
  }
}

function rebuildTimers<E>(g: GroupState<E>, k: number, watermark: number): void {
  const b = k * g.stride
  for (const ring of g.rings) {
    if (!ring.timers) continue
    for (let s = 0; s < ring.n; s++) {
      const idx = g.slab[b + ring.off + s] as number
      if (!Number.isNaN(idx) && idx * ring.hop + ring.size > watermark)
        g.timers.add(idx * ring.hop + ring.size, k)
    }
  }
  for (let j = 0; j < g.features.length; j++) {
    const f = g.features[j] as { emit: string }
    if (f.emit !== 'value' || (g.gen[j] as number) < 0) continue
    const hop = g.hop[j] as number
    const size = g.size[j] as number
    const st = (g.generic[k] as FeatureState[])[g.gen[j] as number]
    if (st instanceof TiledState) {
      for (let s = 0; s < st.tileIdx.length; s++) {
        const idx = st.tileIdx[s] as number
        if (!Number.isNaN(idx) && idx * hop + size > watermark) g.timers.add(idx * hop + size, k)
      }
    } else if (st instanceof SessionState && !Number.isNaN(st.timerAt)) {
      g.timers.add(st.timerAt, k)
    }
  }
  // The de-duplication mark only filters repeats; clear it so new timers are never skipped.
  g.slab[b + H_TIMER] = Number.NaN
}

function dataToState(st: FeatureState, d: FeatureStateData, agg: Aggregator): void {
  st.cursor = dec(d.c)
  st.version = d.v
  st.last = 'l' in d ? (d.l as FeatureValue) : UNSET
  if (st instanceof TiledState && d.k === 'tiled') {
    const n = st.tileIdx.length
    for (const [idx, acc, events] of d.t) {
      const slot = ((idx % n) + n) % n
      st.tileIdx[slot] = idx
      st.tiles[slot] = fromJSON(agg, acc)
      st.counts[slot] = events
    }
  } else if (st instanceof SessionState && d.k === 'session') {
    st.sessions = d.s.map(([start, end, acc, events]) => ({ start, end, acc: fromJSON(agg, acc), n: events }))
    st.timerAt = dec(d.ta)
  } else if (st instanceof UnboundedState && d.k === 'unbounded') {
    st.n = d.n
    if ('a' in d) {
      st.acc = fromJSON(agg, d.a)
      st.empty = false
    }
  } else {
    throw new CheckpointMismatchError(
      `core: checkpoint state kind '${d.k}' does not match the feature's window`,
    )
  }
}
