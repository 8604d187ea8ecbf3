/**
 * The contracts of @skewless/core. Dependency-free: nothing here imports a client library.
 *
 * Time is always milliseconds since the Unix epoch as a `number`.
 */

import type { AbortOptions } from './abort.js'

/** A feature value. `null` is the empty value of aggregators that have no neutral element (min, max, mean, last). */
export type FeatureValue = number | string | boolean | null

/** The declared type of a feature's values, as stored in the offline log and the online store. */
export type ValueType = 'double' | 'int64' | 'string' | 'bool'

/** A duration: milliseconds as a number, or a string such as `'500ms'`, `'10s'`, `'5m'`, `'1h'`, `'7d'`, `'1h30m'`. */
export type Duration = number | string

/** What an operator emits: the value a feature has for an entity from `eventTime` on. */
export interface FeatureUpdate {
  /** Entity key, e.g. a user id. */
  entity: string
  /** Feature name, unique within a pipeline. */
  feature: string
  /** The value of the feature from `eventTime` on (for additive tile updates: the tile's full partial). */
  value: FeatureValue
  /** The event-time instant from which `value` holds (ms since epoch). */
  eventTime: number
  /**
   * Tie-breaker for equal event times: the number of events of the window at `eventTime` (of the
   * tile, for a tile update; of the open session; of all time, for an unbounded window), so it
   * depends on the events only, never on how they were cut into micro-batches
   * (docs/decisions/version.md). `(eventTime, version)` orders the updates of one pair totally;
   * the version alone does not (a decay to an empty window has version 0).
   */
  version: number
  /**
   * Set only on updates of additive features: the start (inclusive) of the tile this partial
   * aggregate covers. The tile covers `[tileStart, tileStart + hopMs)`. The reader sums the tiles
   * of the window that ends at the read time.
   */
  tileStart?: number
}

/** Outcome of an online write: `applied`, or `stale` when compare-and-set rejected it as not newer. */
export type WriteOutcome = 'applied' | 'stale'

/** A `FeatureUpdate` as acknowledged by the online store: what the offline log records. */
export interface FeatureWrite extends FeatureUpdate {
  /** When the online store acknowledged the write, i.e. when the value became readable online. */
  availableTime: number
  /** Whether the store applied the write or rejected it as stale. */
  outcome: WriteOutcome
}

/** A source of time. Inject a manual clock in tests to run on simulated time. */
export interface Clock {
  /** Current time in ms since epoch. */
  now(): number
}

/**
 * Where an operator writes. `write` may return a promise: the pipeline awaits it before reading
 * more input, which is how backpressure reaches the source. Return `void` when the batch was
 * taken synchronously, so no promise is paid per batch.
 */
export interface Sink<T> {
  /** Take a batch. The sink may keep a reference to the array only until the call (or its promise) returns. */
  write(batch: readonly T[]): void | Promise<void>
  /**
   * Resolve once everything written so far is durable / acknowledged downstream. A sink that honours
   * `signal` rejects with `AbortedError` when it aborts first (the pipeline also stops waiting then).
   */
  flush(options?: AbortOptions): Promise<void>
  /** Flush, then release resources. Writing after close is an error. `signal`: as for `flush`. */
  close(options?: AbortOptions): Promise<void>
}

/** An event that arrived too late (behind the watermark by more than the allowed lateness). */
export interface LateEvent<E = unknown> {
  /** The event as the source produced it. */
  event: E
  /** Its event time. */
  eventTime: number
  /** The watermark when it arrived. */
  watermark: number
  /** Names of the feature group (entity extractor) it was late for. */
  features: readonly string[]
}

/**
 * Stable codes for why an event went to the dead-letter output:
 * - `invalid-event`: the entity or eventTime extractor threw (e.g. a `null` event); `cause` holds its error;
 * - `missing-key`: no usable entity key;
 * - `invalid-time`: the event time is not a storable instant (see `isStorableTime`);
 * - `future-time`: the event time is more than `watermark.maxFutureTime` ahead of the pipeline's clock;
 * - `invalid-value`: a feature's value does not fit the feature (wrong type, or not an integer for an
 *   int64 sum, min or max); the event still counts for the group's other features.
 */
export type DeadLetterCode =
  | 'invalid-event'
  | 'missing-key'
  | 'invalid-time'
  | 'future-time'
  | 'invalid-value'

/** An event the pipeline could not process, with the reason. */
export interface DeadLetter<E = unknown> {
  /** The event as the source produced it. */
  event: E
  /** Machine-readable reason: one name for it across dead letters and errors (`InvalidEventError.reason`). */
  reason: DeadLetterCode
  /** Human-readable: what was wrong. */
  message: string
  /**
   * The same value as `reason`.
   * @deprecated Read `reason`. (Before 0.2 `reason` held the human-readable text, now `message`.)
   */
  code: DeadLetterCode
  /** The feature whose extractor rejected the event, when the reason is feature-specific. */
  feature?: string
  /** The error an extractor threw, when one did. */
  cause?: unknown
}

/**
 * An aggregation function over the events of a window, computed from partial aggregates
 * (accumulators). `add`, `merge` and `retract` return the new accumulator so that plain numbers
 * can be accumulators (no allocation on the hot path).
 */
export interface Aggregator<In = unknown, Acc = unknown, Out extends FeatureValue = FeatureValue> {
  /** Name used in errors and metadata, e.g. `'count'`. */
  readonly kind: string
  /** Type of the result values. */
  readonly valueType: ValueType
  /** Whether `merge` is plain numeric addition on number accumulators: such features can be written `additive`. */
  readonly additive?: boolean
  /** A fresh, empty accumulator. */
  init(): Acc
  /** Add one input value with its event time. May mutate `acc` and return it. */
  add(acc: Acc, value: In, eventTime?: number): Acc
  /** Combine two accumulators (of adjacent or overlapping tiles). May mutate and return `a`; must not mutate `b`. */
  merge(a: Acc, b: Acc): Acc
  /** The feature value of an accumulator. `result(init())` is the empty value the feature decays to. */
  result(acc: Acc): Out
  /** Remove an accumulator previously merged in (`retract(merge(a, b), b) == a`), where that is cheap. */
  retract?(acc: Acc, removed: Acc): Acc
  /** Check one input value; return an error message when it is of the wrong type, else `undefined`. */
  validate?(value: unknown): string | undefined
  /** Convert an accumulator to a plain JSON-serializable value for checkpoints. @default identity */
  toJSON?(acc: Acc): unknown
  /** Inverse of `toJSON`. @default identity */
  fromJSON?(json: unknown): Acc
}

/** Window kinds in event time. */
export type WindowSpec = TumblingWindow | HoppingWindow | SessionWindow | UnboundedWindow

/** Non-overlapping windows `[k·size, (k+1)·size)`. */
export interface TumblingWindow {
  readonly kind: 'tumbling'
  /** Window size in ms. */
  readonly sizeMs: number
  /** Tile (hop) size in ms: equal to `sizeMs`. */
  readonly hopMs: number
}

/** Overlapping windows of `sizeMs` sliding by `hopMs`; `sizeMs` is a multiple of `hopMs`. */
export interface HoppingWindow {
  readonly kind: 'hopping'
  /** Window size in ms. */
  readonly sizeMs: number
  /** Hop (tile) size in ms. */
  readonly hopMs: number
}

/** Sessions: events closer than `gapMs` belong to one session; the value empties `gapMs` after the last event. */
export interface SessionWindow {
  readonly kind: 'session'
  /** Inactivity gap in ms. */
  readonly gapMs: number
}

/** All events since the start (no decay), e.g. lifetime counts or `last` values. */
export interface UnboundedWindow {
  readonly kind: 'unbounded'
}

/** Watermark and lateness settings of a pipeline. */
export interface WatermarkOptions {
  /** Bounded out-of-orderness: watermark = max event time − this. @default 0 */
  outOfOrderness?: Duration
  /** Events behind the watermark by at most this are still applied; later ones go to the late output. @default 0 */
  allowedLateness?: Duration
  /**
   * When a source produced nothing for this long (processing time, from the pipeline's clock), it no
   * longer holds the watermark back, and once every source is idle the watermark follows the clock
   * (`clock.now() − outOfOrderness`) so windows still decay when events stop. `undefined` disables it.
   */
  idleTimeout?: Duration
  /**
   * Events dated more than this ahead of the processing clock (the pipeline's `clock`) are
   * dead-lettered `future-time`, so one wrongly dated event cannot push the watermark ahead and
   * make every later good event late. `Infinity` disables the bound (e.g. a backfill driven by a
   * simulated clock that lags its events). @default '1d'
   */
  maxFutureTime?: Duration
}

/** Counters a pipeline exposes. All are monotonic. */
export interface PipelineMetrics {
  /** Events read from sources. */
  eventsIn: number
  /** Events applied to operator state (counted once per feature group). */
  eventsApplied: number
  /** Events sent to the late output. */
  lateEvents: number
  /** Events the pipeline dead-lettered (sent to `deadLetters`, or counted and logged without it). */
  deadLetters: number
  /**
   * Every dead letter by reason: the pipeline's own by code (`invalid-value`, `invalid-time`, ...),
   * the sink's as `sink:<code>` (`sink:serialization`, `sink:retries-exhausted`) and those of the
   * log behind it as `log:<code>`, when the sink reports them (`metrics().deadLettersByReason`, as the
   * online sink does). Nothing is dropped without a count here.
   */
  deadLettersByReason: Record<string, number>
  /** Writes the sink dead-lettered (its `metrics().deadLetters`; 0 for a sink without metrics). */
  sinkDeadLetters: number
  /** Records the offline log behind the sink rejected (the sink's `metrics().logDeadLetters`). */
  logDeadLetters: number
  /** Feature updates emitted. */
  updatesOut: number
  /** Micro-batches processed. */
  batches: number
  /** Current watermark (ms), `-Infinity` before the first event. */
  watermark: number
  /** Checkpoints committed (with `checkpoints`) or taken. */
  checkpoints: number
  /** How long the last checkpoint paused the stream (the operator snapshot at a batch boundary), ms. */
  checkpointPauseMs: number
  /** From the last checkpoint's snapshot until it was committed (sinks flushed, log commit), ms. */
  checkpointCommitMs: number
  /** Periodic checkpoints that failed to commit (each logged; the next interval retries). */
  checkpointFailures: number
  /**
   * Events older than `historyWarningAge` behind the processing clock when they were read: history
   * replayed through the live path, whose values read as available now (use `backfill()`). 0 in a
   * backfill, which simulates its clock.
   */
  historicEvents: number
}

/**
 * Where a pipeline reports what needs a human's attention (history on the live path, and later
 * connection loss, retries, dead-letter and late-event summaries). The subset of pino's logger that
 * Skewless calls: a pino (or bunyan-like) logger can be passed as is.
 */
export interface Logger {
  /** Something is probably wrong and the data may not be what the user expects. */
  warn(obj: object, msg?: string): void
  /** A notable, expected event (a summary at the end of a run). */
  info(obj: object, msg?: string): void
  /** Something failed. */
  error(obj: object, msg?: string): void
}

/** How a feature's updates are emitted. */
export type EmitMode =
  /** One update per change of the window's value (the default). */
  | 'value'
  /**
   * One update per change of a tile's partial aggregate, carrying `tileStart`; the online store keeps
   * the tiles and the reader combines those of the window ending at the read time (write strategy
   * `additive`). Only for aggregators with `additive: true` (count, sum) and tumbling/hopping windows.
   */
  | 'tiles'

/** A serializable description of a defined feature, for sinks, stores, logs and readers. */
export interface FeatureInfo {
  /** Unique feature name. */
  name: string
  /** Type of its values. */
  valueType: ValueType
  /** Its window. */
  window: WindowSpec
  /** Aggregator kind, e.g. `'count'`. */
  aggregate: string
  /** How its updates are emitted. */
  emit: EmitMode
  /**
   * Time to live (ms > 0): a value older than this (`t − eventTime > ttlMs`) is missing. The online
   * reader hides it, and the as-of join and the skew audit apply it as the feature's `maxAge`, so
   * serving and training agree. From the spec's `ttl`. @default no TTL
   */
  ttlMs?: number
  /** What the feature means, for the registry (`describe()`). @default none */
  description?: string
  /** Who owns the feature (a team or a person), for the registry. @default none */
  owner?: string
  /** Free-form labels for the registry, e.g. `['fraud', 'pii']`. @default none */
  tags?: string[]
}

/**
 * How a feature's updates are written to the online store.
 * - `upsert`: last writer (in arrival order at the store) wins.
 * - `cas`: compare-and-set on `(eventTime, version)`: an update not strictly newer than the stored
 *   one is rejected atomically by the store and reported `stale`.
 * - `additive`: the update carries one tile's full partial aggregate (`tileStart` set, emitted by
 *   core with `emit: 'tiles'`); the store keeps tiles per (entity, feature) with CAS per tile, so a
 *   replay never double counts, and the reader sums the tiles of the window ending at the read time.
 */
export type WriteStrategy = 'upsert' | 'cas' | 'additive'

/** How one feature is stored and served. */
export interface OnlineFeatureConfig {
  /** Feature name, as in `FeatureUpdate.feature`. */
  name: string
  /** Type of its values (for encoding and decoding). */
  valueType: ValueType
  /** Write strategy. @default 'cas' */
  strategy?: WriteStrategy
  /**
   * A served value whose age (`readTime − eventTime`) exceeds this reads as missing, even when the
   * store still holds it. Stores with the `ttl` capability also expire the data physically (later,
   * never earlier): at least `ttlMs` after the write, measured on the store's clock, which is never
   * before `eventTime + ttlMs` when event times are not in the future. A number of ms > 0;
   * `Infinity` filters nothing and never expires. @default no TTL
   */
  ttlMs?: number
  /**
   * Required for `additive`: the window whose tiles the reader sums (tumbling or hopping, from core's
   * `tumbling()` / `hopping()`: whole ms > 0, the size a multiple of the hop).
   */
  window?: WindowSpec
}

/** A value the reader served, for the skew audit: join it as of `readTime` against the offline log. */
export interface ServedRecord {
  entity: string
  feature: string
  /** What was served (`null` when missing). */
  value: FeatureValue
  /** Event time of the served value (`null` when missing). */
  eventTime: number | null
  /** When it was read: the request's time, a lower bound of the instant the store served. */
  readTime: number
  /** When the store's answer arrived: the served state is the store's at some instant in `[readTime, answeredTime]`. */
  answeredTime?: number
}
