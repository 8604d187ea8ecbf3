/**
 * The contract of @skewless/asof-join: a leak-free point-in-time join of label rows against the
 * offline log of `FeatureWrite`s.
 *
 * Semantics, for each label row `(entity, t)` and each requested feature: among the log records of
 * that entity and feature that are *eligible* at `t`, pick the greatest by
 * `(eventTime, version, availableTime, scan order)` — i.e. the greatest eventTime; equal eventTimes
 * are broken by the higher version, then the later availableTime, then the record that comes later
 * in the log's scan order. Eligible means:
 * - `by: 'available'` (default): `eventTime <= t` AND `availableTime <= t` — what the online store
 *   would have served at `t`, so a value computed but not yet readable never leaks into training;
 * - `by: 'event'`: `eventTime <= t` (classic as-of join on event time);
 * - with `inclusive: false` every `<=` above becomes `<`.
 * Records with outcome `'stale'` are never eligible (the online store rejected them, so nobody was
 * served them). When the chosen value is older than the feature's `maxAge` at `t`
 * (`t - eventTime > maxAge`) the output is null. Label rows are never dropped nor reordered.
 *
 * Additive (tile) features — emitted with `emit: 'tiles'`, requested with `FeatureRequest.window` —
 * get the value the online reader computes at `t` from the tiles the store held at `t`: per
 * `tileStart`, the greatest eligible record (same eligibility and order as above); then the sum, in
 * ascending `tileStart` order, of the values of the tiles in `windowAt(t, window)`, with the greatest
 * eventTime among those tiles. When the entity has eligible tiles but none in the window the value
 * has decayed to `0`, with eventTime = the instant the newest older tile left the window (or `t` when
 * every eligible tile lies after the window). Null only when no tile record is eligible. `maxAge`
 * applies to that eventTime, like the reader's `ttlMs`.
 */
import type {
  AbortOptions,
  Duration,
  FeatureInfo,
  ProgressOptions,
  TelemetryOptions,
  ValueType,
  WindowSpec,
} from '@skewless/core'
import type { OfflineLog, TimeBasis } from '@skewless/offline-log'
import type { Table } from 'apache-arrow'

/** A label entity key. Integers must be safe integers. */
export type EntityKey = string | number | bigint

/** A label time: ms since epoch as a number (or bigint), or a `Date`. */
export type LabelTime = number | bigint | Date

/** One column of labels given as plain data: a typed array or a JS array. */
export type LabelColumn = ArrayLike<unknown> | BigInt64Array

/**
 * Label rows, in any of three shapes. Whatever the shape, every column is carried to the output in
 * its input order and every row keeps its position.
 * - an Arrow `Table` (entity: Utf8 / Dictionary<Utf8> / Int*; time: Timestamp (any unit), Date,
 *   Int* or Float* in ms);
 * - `{ [column]: typed array | array }`, all of one length;
 * - an array of row objects (columns in order of first appearance).
 */
export type Labels =
  | Table
  | Readonly<Record<string, LabelColumn>>
  | readonly Readonly<Record<string, unknown>>[]

/**
 * The log to join against: an `OfflineLog` (read with `scan`, batch by batch, memory bounded by the
 * labels, not by the log), or an Arrow `Table` of log records in the layout of
 * `@skewless/offline-log` (`entity`, `feature`, `value_*`, `event_time`, `available_time`, `version`,
 * `outcome`, `tile_start`). In a table, `available_time` may be omitted for `by: 'event'`, `version`
 * defaults to 0, `outcome` to `'applied'`, and `entity` may also be an integer column.
 */
export type LogInput = OfflineLog | Table

/** One requested feature with its per-feature options. */
export interface FeatureRequest {
  /** Feature name, as in the log's `feature` column. Also the output column name. */
  name: string
  /**
   * Maximum age at the label time: when `t - eventTime > maxAge` the output is null (like a TTL;
   * an age equal to `maxAge` is kept). Ms or a duration string such as `'1h'`; `Infinity` for no
   * limit even when the definition has a TTL.
   * @default the feature's definition's `ttlMs` (see `AsOfJoinOptions.definitions`), else no limit
   */
  maxAge?: Duration
  /**
   * Value type of the feature, which fixes the output column type (double → Float64,
   * int64 → Int64, string → Utf8, bool → Bool). Taken from `log.featureTypes` for an `OfflineLog`.
   * In a table log a feature without `type` must have at least one record (else
   * `MissingFeatureError`: a misspelt name is not silently an all-null column); with `type` it may
   * have none.
   * @default the definition's `valueType`; for a table log without one: the only `value_*` column
   * present, else the first one with a non-null value for this feature, else 'double'
   */
  type?: ValueType
  /** Add a `<name>__event_time` column (Timestamp ms) with the chosen record's eventTime. @default options.includeEventTime */
  includeEventTime?: boolean
  /** Add a `<name>__age_ms` column (Int64) with `t - eventTime` of the chosen record. @default options.includeAge */
  includeAge?: boolean
  /**
   * Set for an additive (tile) feature — one emitted with `emit: 'tiles'`, whose log records carry
   * `tile_start`: the tumbling or hopping window its tiles were emitted for (its
   * `FeatureInfo.window`, the `window` of its `OnlineFeatureConfig`). The join then sums the tiles of
   * the window at each label time, exactly as the online reader does (see the header of this file);
   * `maxAge` plays the reader's `ttlMs`. The feature must be double or int64. A tile record of a
   * feature requested without `window`, or a whole-value record of one requested with it, throws
   * `UnsupportedRecordError`.
   * @default the definition's `window` when it has `emit: 'tiles'`, else undefined (a whole-value feature)
   */
  window?: WindowSpec
}

/**
 * Options of `asOfJoin` / `asOfJoinTable`. `signal` (`asOfJoin` only: `asOfJoinTable` is synchronous)
 * stops the join between two log batches or partitions: it rejects with `AbortedError`, and the log's
 * scan and the join's worker are released.
 */
export interface AsOfJoinOptions extends TelemetryOptions, ProgressOptions, AbortOptions {
  /** Features to join: names, or requests with per-feature options. Each becomes an output column. */
  features: readonly (string | FeatureRequest)[]
  /**
   * The feature definitions (`group.describe()`): a requested feature's `maxAge` defaults to its
   * `ttlMs`, a tile feature's `window` to its window, `type` to its `valueType`, so the join applies
   * what the online reader applied without repeating it. Request options still override.
   * @default what the log records, when it has a `describe()` (e.g. the Parquet log's manifest), else none
   */
  definitions?: readonly FeatureInfo[]
  /**
   * Which records are eligible at label time `t`. `'available'`: eventTime and availableTime both
   * `<= t` (leak-free: what the online store served at `t`). `'event'`: eventTime `<= t` only.
   * @default 'available'
   */
  by?: TimeBasis
  /** `true`: times `<= t` are eligible; `false`: strictly `< t`. @default true */
  inclusive?: boolean
  /**
   * Name of the label column holding the entity key. String keys match the log's Utf8 entities
   * exactly. Integer keys are matched against a Utf8 log entity by their decimal string
   * (`String(n)`: `7` matches `'7'`, never `'007'`) and against an integer log entity by value.
   * String label keys against an integer log entity column throw `EntityTypeMismatchError`. A null
   * key matches nothing (its feature columns are null).
   * @default 'entity'
   */
  entityColumn?: string
  /**
   * Name of the label column holding the label time: ms since epoch (numbers or bigints), Dates,
   * ISO-8601 strings with an offset, or an Arrow Timestamp (any unit), Date, integer, float or Utf8
   * column; read by core's `parseTime`, as the pipeline reads event times. @default 'time'
   */
  timeColumn?: string
  /**
   * Accept label times given as bare numbers that look like seconds (1e9 <= t < 1e11: as ms,
   * instants of 1970-01-12 to 1973-03-03). Off, such a time throws `InvalidTimeError` saying to
   * multiply by 1000. Dates, ISO strings and Arrow Timestamp/Date columns carry their unit and are
   * never in question. @default false
   */
  allowEarlyTimes?: boolean
  /**
   * How int64 feature values and `__age_ms` come back: `'bigint'` as Arrow Int64 (exact at any size;
   * `get` returns a `bigint`), `'number'` as Float64 numbers (exact up to 2^53 - 1; a larger value
   * throws `Int64RangeError`, it is never rounded; a null stays null). Skewless writes int64 values
   * as safe integers, so `'number'` only fails on logs written by something else.
   * @default 'bigint' (Arrow's native type, what DuckDB and pyarrow expect)
   */
  int64?: 'number' | 'bigint'
  /** Default of `FeatureRequest.includeEventTime` for every feature. @default false */
  includeEventTime?: boolean
  /** Default of `FeatureRequest.includeAge` for every feature. @default false */
  includeAge?: boolean
  /**
   * Split the labels into this many entity-hash partitions (`entityPartition`) and join them one at
   * a time, reading the log once per partition. Working memory is about
   * `labels / partitions × features × 40 bytes` plus one log batch; the log itself is streamed and
   * never held. The same hash lets separate processes each join one partition.
   * @default 1
   */
  partitions?: number
  /**
   * Worker threads (0 or 1) that apply staged records to the label slots while the main thread
   * decodes the log, through SharedArrayBuffers, for whole-value features of every type (tile
   * features are joined on the main thread). The join stays synchronous: the main thread waits
   * with `Atomics.wait`.
   * @default 1 when there are at least 65 536 labels, else 0
   */
  workers?: 0 | 1
}
