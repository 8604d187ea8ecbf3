/**
 * Decodes log record batches (layout of @skewless/offline-log) block by block into scratch typed
 * arrays for the kernel: entity code, requested-feature index (-1 for other features and for stale
 * records), and — unless the column is 64-bit ms without nulls, which the kernel reads directly —
 * eventTime, version, availableTime. Blocks are small enough to stay in cache, so a 10M-row batch
 * never needs 10M-row temporaries. Records of tile features (`tile_start` set) go to the TileJoin;
 * the kernel sees only whole-value features, under its own feature indexes.
 */
import { getInt64 } from '@skewless/core/internal'
import type { TimeBasis } from '@skewless/offline-log'
import type { Data, RecordBatch, Schema } from 'apache-arrow'
import { int64View, is64, readNumbers, stringReader, timeFactor } from './arrow-read.js'
import { ColumnTypeError, MissingColumnError, UnsupportedRecordError } from './errors.js'
import type { LogEntityMatcher } from './log-entities.js'
import type { JoinOutput } from './output.js'
import type { Block, PartitionJoin } from './partition-join.js'
import { type ResolvedFeature, VALUE_COLUMNS } from './resolve-features.js'
import { StringTable } from './string-table.js'
import type { TileJoin } from './tile-join.js'
import { ValueReader } from './value-reader.js'

const BLOCK = 8192

/** Compact the string table once it holds more than this many strings (tests lower it). */
export const stringCompaction = { minimum: 1 << 20 }

const fieldIndexes = new WeakMap<Schema, Map<string, number>>()

/**
 * A column's Data, by name. Read from the batch's struct Data through a name → index map cached per
 * schema: `batch.getChild` builds a Vector per call, which costs as much as a small batch's join.
 */
function child(batch: RecordBatch, name: string): Data | undefined {
  let index = fieldIndexes.get(batch.schema)
  if (index === undefined) {
    index = new Map(batch.schema.fields.map((f, i) => [f.name, i]))
    fieldIndexes.set(batch.schema, index)
  }
  const i = index.get(name)
  return i === undefined ? undefined : (batch.data.children[i] as Data | undefined)
}

export class LogReader {
  private readonly featureMatcher: StringTable
  /** Outcome codes: 0 applied, 1 stale, -1 anything else (an error: the log says more than the join knows). */
  private readonly outcomeMatcher = StringTable.of(['applied', 'stale'])
  /** Per requested feature: whether any record of it was read (stale ones included). */
  private readonly seen: Uint8Array
  private readonly scratch = new Int32Array(BLOCK)
  private readonly tileStarts = new Float64Array(BLOCK)
  private readonly blk: Block
  /** Requested feature → index among the kernel's (whole-value) features, or -1. */
  private readonly kernelIdx: Int32Array
  /** Requested feature → index among the tile features, or -1. */
  private readonly tileIdx: Int32Array
  private readonly anyTiles: boolean
  private readonly values: ValueReader
  private compactAt = stringCompaction.minimum

  constructor(
    private readonly features: readonly ResolvedFeature[],
    private readonly entities: LogEntityMatcher,
    private readonly by: TimeBasis,
    /** The kernel's output: string values are read as codes in its string table. */
    private readonly out: JoinOutput,
  ) {
    this.featureMatcher = StringTable.of(features.map((f) => f.name))
    this.seen = new Uint8Array(features.length)
    this.kernelIdx = new Int32Array(features.length)
    this.tileIdx = new Int32Array(features.length)
    let kernel = 0
    let tiles = 0
    for (let f = 0; f < features.length; f++) {
      const isTile = (features[f] as ResolvedFeature).window !== undefined
      this.kernelIdx[f] = isTile ? -1 : kernel++
      this.tileIdx[f] = isTile ? tiles++ : -1
    }
    this.anyTiles = tiles > 0
    const valF = new Float64Array(BLOCK)
    this.blk = {
      n: 0,
      rowBase: 0,
      ent: new Int32Array(BLOCK),
      fid: new Int32Array(BLOCK),
      et: new Float64Array(BLOCK),
      ver: new Float64Array(BLOCK),
      at: new Float64Array(BLOCK),
      et64: undefined,
      at64: undefined,
      ver64: undefined,
      ver32: undefined,
      valF,
      valW: new Int32Array(valF.buffer),
      valid: new Uint8Array(BLOCK),
    }
    this.values = new ValueReader(out.strings, Int32Array.from(features.map((f) => f.kind)), BLOCK)
  }

  /** Feed one batch of log records to the kernel (whole-value features) and the tile join. */
  read(batch: RecordBatch, join: PartitionJoin | undefined, tiles: TileJoin | undefined): void {
    const entity = child(batch, 'entity')
    if (!entity) throw new MissingColumnError('entity', 'log')
    const feature = child(batch, 'feature')
    if (!feature) throw new MissingColumnError('feature', 'log')
    const et = child(batch, 'event_time')
    if (!et) throw new MissingColumnError('event_time', 'log')
    const at = child(batch, 'available_time')
    if (!at && this.by === 'available') {
      throw new MissingColumnError(
        'available_time',
        'log',
        " (required by by: 'available'; use by: 'event' without it)",
      )
    }
    const ver = child(batch, 'version')
    const outcome = child(batch, 'outcome')
    const tile = child(batch, 'tile_start')
    const etFactor = timeFactor(et.type, 'event_time')
    const atFactor = at ? timeFactor(at.type, 'available_time') : 1
    const b = this.blk
    const values = VALUE_COLUMNS.map((c) => child(batch, c))
    for (const f of this.features) {
      if (!values[f.kind]) {
        throw new MissingColumnError(
          VALUE_COLUMNS[f.kind] as string,
          'log',
          ` (feature '${f.name}' is ${f.type})`,
        )
      }
    }
    this.values.bind(values)
    // 64-bit ms columns without nulls are read by the kernel straight from their Int32 views.
    const raw64 = (d: Data | undefined, factor: number) =>
      d !== undefined && factor === 1 && d.nullCount === 0 && is64(d)
        ? int64View(d.values as BigInt64Array)
        : undefined
    b.et64 = raw64(et, etFactor)
    b.at64 = raw64(at, atFactor)
    b.ver64 = raw64(ver, 1)
    b.ver32 = ver && ver.nullCount === 0 && ver.values instanceof Int32Array ? ver.values : undefined
    const total = batch.numRows
    const checkTiles = tile !== undefined && tile.nullCount < tile.length
    const tileFactor = tile ? timeFactor(tile.type, 'tile_start') : 1
    for (let start = 0; start < total; start += BLOCK) {
      const n = Math.min(BLOCK, total - start)
      b.n = n
      b.rowBase = start
      this.entities.codes(entity, start, n, b.ent)
      if (!this.featureMatcher.codes(feature, start, n, b.fid)) {
        throw new ColumnTypeError(
          'feature',
          `log column 'feature' has type ${String(feature.type)}: it must be Utf8`,
        )
      }
      const { fid } = b
      for (let i = 0; i < n; i++) {
        const f = fid[i] as number
        if (f >= 0) this.seen[f] = 1
      }
      if (outcome) {
        const oc = this.scratch
        if (!this.outcomeMatcher.codes(outcome, start, n, oc)) {
          throw new ColumnTypeError(
            'outcome',
            `log column 'outcome' has type ${String(outcome.type)}: it must be Utf8`,
          )
        }
        for (let i = 0; i < n; i++) {
          const o = oc[i] as number
          if (o === 0) continue
          // Stale writes were rejected by compare-and-set: nobody was ever served them.
          if (o === 1) fid[i] = -1
          else if ((fid[i] as number) >= 0) this.badOutcome(outcome, start + i)
        }
      }
      if (!b.et64) readNumbers(et, start, n, b.et, etFactor, 'event_time', 0)
      if (!b.at64) {
        if (at) readNumbers(at, start, n, b.at, atFactor, 'available_time', 0)
        else b.at.fill(0, 0, n)
      }
      if (!b.ver64 && !b.ver32) {
        if (ver) readNumbers(ver, start, n, b.ver, 1, 'version', 0, 0)
        else b.ver.fill(0, 0, n)
      }
      this.values.read(b, start)
      if (checkTiles || this.anyTiles) this.route(b, tile, tileFactor, tiles)
      if (join) join.block(b)
    }
    // String values are interned: drop those no slot holds any more, so memory follows the labels,
    // not the number of distinct strings the log ever had.
    if (join && this.out.strings.size > this.compactAt) {
      join.compactStrings(this.out)
      this.compactAt = Math.max(stringCompaction.minimum, 2 * this.out.strings.size)
    }
  }

  /** The first requested feature of which no record was read, if any. */
  missingFeature(): string | undefined {
    for (let f = 0; f < this.features.length; f++) {
      const feat = this.features[f] as ResolvedFeature
      if (this.seen[f] === 0 && !feat.typed) return feat.name
    }
    return undefined
  }

  private badOutcome(outcome: Data, row: number): never {
    const value = stringReader(outcome)(row)
    throw new UnsupportedRecordError(
      'outcome',
      `log row ${row} of its batch has outcome ${value === null ? 'null' : `'${value}'`}: a log record's outcome is 'applied' or 'stale' (what the online store did with the write)`,
    )
  }

  /**
   * Send the block's tile records to the tile join and renumber the rest for the kernel. A tile
   * record of a feature requested without a window, or a whole-value record of one requested with
   * a window, means the request does not describe the log: both throw.
   */
  private route(b: Block, tile: Data | undefined, tileFactor: number, tiles: TileJoin | undefined): void {
    const n = b.n
    const ts = this.tileStarts
    if (tile) readNumbers(tile, b.rowBase, n, ts, tileFactor, 'tile_start', 0, Number.NaN)
    else ts.fill(Number.NaN, 0, n)
    const { ent, fid } = b
    for (let i = 0; i < n; i++) {
      const f = fid[i] as number
      if (f < 0) continue
      const k = this.tileIdx[f] as number
      const s = ts[i] as number
      if (k < 0) {
        if (!Number.isNaN(s) && (ent[i] as number) >= 0) {
          throw new UnsupportedRecordError(
            'tile_start',
            `feature '${this.features[f]?.name}' has additive tile records (column 'tile_start' is set): request it with its window, e.g. { name, window: hopping('1h', '5m') } (the window of its OnlineFeatureConfig)`,
          )
        }
        fid[i] = this.kernelIdx[f] as number
        continue
      }
      fid[i] = -1
      const c = ent[i] as number
      if (c < 0) continue
      if (Number.isNaN(s)) {
        throw new UnsupportedRecordError(
          'tile_start',
          `feature '${this.features[f]?.name}' is requested with a window (a tile feature) but row ${b.rowBase + i} of the batch has no tile_start: drop its window to join it as whole values`,
        )
      }
      const row = b.rowBase + i
      const kind = (this.features[f] as ResolvedFeature).kind
      const valid = b.valid[i] as number
      // Tile values are summed as doubles: an int64 tile from its two words (exact below 2^53).
      const x = kind === 0 ? (b.valF[i] as number) : getInt64(b.valW, i)
      tiles?.add(
        c,
        k,
        s,
        num(b.et64, b.et, row, i),
        num(b.ver64, b.ver, row, i, b.ver32),
        num(b.at64, b.at, row, i),
        valid === 1 ? x : 0,
        valid,
      )
    }
  }
}

/** Row `i` of a block's time/version column: from its raw 64-bit (or 32-bit) view, else decoded. */
function num(
  v64: Int32Array | undefined,
  decoded: Float64Array,
  k: number,
  i: number,
  v32?: Int32Array,
): number {
  if (v32 !== undefined) return v32[k] as number
  if (v64 === undefined) return decoded[i] as number
  return getInt64(v64, k)
}
