/**
 * The OfflineLog contract: an append-only history of every `FeatureWrite` the online store
 * acknowledged, readable as of any instant. Adapters (memory, Parquet) implement it; the as-of
 * join and time travel consume it.
 *
 * Arrow layout of a log record batch (the same for every adapter, see `LOG_SCHEMA_FIELDS`):
 * | column          | Arrow type                               | notes                                     |
 * |-----------------|------------------------------------------|-------------------------------------------|
 * | entity          | Utf8 (or Dictionary<Utf8>)               | entity key                                |
 * | feature         | Utf8 (or Dictionary<Utf8>)               | feature name                              |
 * | value_double    | Float64, nullable                        | set when the feature's valueType = double |
 * | value_int64     | Int64, nullable                          | set when valueType = int64                |
 * | value_string    | Utf8, nullable                           | set when valueType = string               |
 * | value_bool      | Bool, nullable                           | set when valueType = bool                 |
 * | event_time      | Timestamp(ms)                            | `FeatureWrite.eventTime`                  |
 * | available_time  | Timestamp(ms)                            | `FeatureWrite.availableTime`              |
 * | version         | Int64                                    | `FeatureWrite.version`                    |
 * | outcome         | Utf8 (or Dictionary<Utf8>)               | 'applied' or 'stale'                      |
 * | tile_start      | Timestamp(ms), nullable                  | `FeatureWrite.tileStart` (additive tiles) |
 * A `null` feature value is null in its typed column (and in all the others).
 */
import type {
  AbortOptions,
  CheckpointData,
  CheckpointLog,
  CommitMarks,
  Duration,
  FeatureInfo,
  FeatureUpdate,
  FeatureWrite,
  MarkedAppendOptions,
  PipelineOptions,
  PipelineResult,
  ProgressOptions,
  Sink,
  TelemetryOptions,
  ValueType,
} from '@skewless/core'
import type { RecordBatch } from 'apache-arrow'

/** Which time a read is ordered and filtered by. */
export type TimeBasis = 'event' | 'available'

/** Declared type of each feature the log accepts, by name. */
export type FeatureTypes = Record<string, ValueType>

/**
 * Options of a scan. Time bounds are half-open: `from <= time < to`. `signal` stops the scan between
 * two batches (or files): the iterator then throws `AbortedError` and releases what it held.
 */
export interface ScanOptions extends AbortOptions {
  /** Features to read. Required: a scan never reads features the caller did not name. */
  features: readonly string[]
  /** Only these entities. @default all */
  entities?: readonly string[]
  /** Inclusive lower bound on the `by` time (ms). @default -Infinity */
  from?: number
  /** Exclusive upper bound on the `by` time (ms). @default Infinity */
  to?: number
  /** Which time `from`/`to` filter on. @default 'event' */
  by?: TimeBasis
  /** Include records whose outcome is `stale` (rejected by compare-and-set). @default false */
  includeStale?: boolean
}

/** Options of `stateAt` (time travel). `signal` stops the read between two batches: `AbortedError`. */
export interface StateAtOptions extends AbortOptions {
  /** Features to read. */
  features: readonly string[]
  /** Only these entities. @default all */
  entities?: readonly string[]
  /**
   * `available`: what the online store would have served at `t` (records with availableTime <= t,
   * greatest eventTime, ties by version; a write logged twice — same (entity, feature, tileStart,
   * eventTime, version) — counts once, with its earliest availableTime). `event`: records with
   * eventTime <= t, same ordering. @default 'available'
   */
  by?: TimeBasis
  /**
   * Accept a `t` that looks like seconds (1e9 <= t < 1e11: as ms, an instant of 1970-01-12 to
   * 1973-03-03). Off, such a `t` is an `InvalidArgumentError` saying to multiply by 1000 (core's
   * rule, as for event and label times). @default false
   */
  allowEarlyTimes?: boolean
}

/** Capabilities of a log adapter, as data: code and tests branch on these, never on `instanceof`. */
export interface OfflineLogCapabilities {
  /** Records survive a process restart once `append` resolved. */
  durable: boolean
  /**
   * Each stored segment is sorted by (entity, eventTime) and carries min/max times. When true, every
   * `RecordBatch` that `scan` yields is itself sorted by (entity, event_time, version), so consumers
   * such as the as-of join can merge batches instead of sorting all records again.
   */
  sortedSegments: boolean
}

/**
 * An append-only log of `FeatureWrite`s. It is also a `Sink<FeatureWrite>`, so it plugs into a
 * pipeline downstream of the online sink, and a `CheckpointLog`: a commit may carry `CommitMarks`
 * (the pipeline checkpoint and changelog position its records cover), recorded atomically with them.
 */
export interface OfflineLog extends Sink<FeatureWrite>, CheckpointLog {
  /** What this adapter guarantees. */
  readonly capabilities: OfflineLogCapabilities
  /** Declared value type of every feature the log accepts. */
  readonly featureTypes: Readonly<FeatureTypes>
  /**
   * Append records. Durable once the promise resolves. Records of an unknown feature, with a value
   * that does not match the feature's type, or a non-finite time are rejected with a typed error
   * (or routed to the dead-letter output when one is configured), never written. The log does not
   * keep `batch`: the caller may reuse the array as soon as `append` returns.
   */
  append(batch: readonly FeatureWrite[]): Promise<void>
  /**
   * Append `batch` (validated as by `append`; it may be empty) and record `options.marks` in the same
   * atomic commit, after every batch appended or written before this call: once it resolves, both
   * are durable (for a durable log); after a crash at any instant, `readMarks()` returns marks that
   * describe exactly the records visible. Keys absent from `marks` keep their previous value.
   * Refused with `MarksRefusedError` when an earlier append or write failed (its records are not in
   * the log, so these marks would claim them) and `readMarks()` was not called since: resume from
   * the marks it returns.
   */
  appendMarked(batch: readonly FeatureWrite[], options: MarkedAppendOptions): Promise<void>
  /**
   * The latest value of each mark as of the last commit that carried it (`{}` when none did).
   * Calling it also acknowledges earlier failed appends: marked appends after it are accepted again.
   */
  readMarks(): Promise<CommitMarks>
  /** Read matching records as Arrow record batches (layout in this file's header). */
  scan(options: ScanOptions): AsyncIterable<RecordBatch>
  /** Read matching records as row objects, for small reads. */
  scanRows(options: ScanOptions): AsyncIterable<FeatureWrite[]>
  /**
   * Time travel: the record each (entity, feature) held at instant `t`. One record per pair that had a
   * value, sorted by (feature, entity). Additive features hold one record per tile, as the online
   * store does: one per (entity, feature, tileStart), sorted by tileStart after the pair (summing
   * the tiles of a window at `t` is the as-of join's job, which knows the window). Records with
   * outcome `stale` never count: compare-and-set rejected them, so the online store never held
   * them. Ordering and basis: see `StateAtOptions.by`.
   */
  stateAt(t: number, options: StateAtOptions): Promise<FeatureWrite[]>
  /**
   * Records rejected to the `deadLetters` output so far, per code (a sink with this log as its
   * downstream reports them, and the pipeline in `metrics.logDeadLetters`). Optional for adapters.
   */
  metrics?(): {
    deadLetters: number
    deadLettersByReason: Record<string, number>
    /** @deprecated Read `deadLettersByReason` (the same counts; one name, reason, for the machine-readable reason). */
    deadLettersByCode?: Record<string, number>
  }
}

/** A record rejected by the log, with the reason. */
export interface RejectedWrite {
  /** The record as given to `append`. */
  record: FeatureWrite
  /** Machine-readable reason: one name for it across dead letters and errors. */
  reason: 'unknown-feature' | 'invalid-value' | 'invalid-time'
  /** Human-readable: what is wrong with the record. */
  message: string
  /**
   * The same value as `reason`.
   * @deprecated Read `reason`. (Before 0.2 `reason` held the human-readable text, now `message`.)
   */
  code: 'unknown-feature' | 'invalid-value' | 'invalid-time'
}

/** Options shared by every log adapter. */
export interface OfflineLogOptions extends TelemetryOptions {
  /** Declared features: a map name → value type, or `FeatureInfo`s from `@skewless/core`. */
  features: FeatureTypes | readonly FeatureInfo[]
  /**
   * Where rejected records go. When unset, `append` rejects the whole batch with an
   * `InvalidRecordError` naming the first bad record, and writes nothing of it.
   */
  deadLetters?: Sink<RejectedWrite>
}

/**
 * Options of `backfill`: a pipeline's options (source, features, watermark, checkpoint, ...)
 * without its sink and what only a live run has (checkpoint store, idleness ticks, history warning),
 * plus the log to fill. One source only (`sources` with one entry is accepted); `batchSize` and
 * `linger` only set how the source is read: the micro-batches are the event-time instants.
 */
export interface BackfillOptions<E>
  extends Omit<
      PipelineOptions<E>,
      | 'sink'
      | 'checkpoints'
      | 'checkpointInterval'
      | 'tickInterval'
      | 'tickIntervalMs'
      | 'logger'
      | 'historyWarningAge'
    >,
    ProgressOptions {
  /** Where the computed values go, as applied `FeatureWrite`s. It is flushed, never closed. */
  log: OfflineLog
  /**
   * Added to each simulated `availableTime` (the event-time frontier at emission): the write and
   * processing latency the live pipeline would have had, so training rows do not see a value
   * sooner than serving would have. @default 0
   */
  availabilityDelay?: Duration
  /**
   * Where the watermark goes when the source ends (see `PipelineOptions.drainTo`). Defaults to
   * `'none'` here: a live stream would not have emitted the decays after its last watermark yet,
   * and a pipeline resumed from the result's `checkpoint` emits them when its events arrive.
   * @default 'none'
   */
  drainTo?: PipelineOptions<E>['drainTo']
}

/** What `backfill` did. */
export interface BackfillResult extends PipelineResult {
  /** Records appended to the log. */
  records: number
  /** The operator state at the end: resume a live pipeline from it (`createPipeline({ checkpoint })`). */
  checkpoint: CheckpointData
}

/**
 * Options of `materialize`. `signal` stops it while the state is read or between two batches written
 * to the sink (`AbortedError`): the batches written before stay written, the sink is not flushed.
 */
export interface MaterializeOptions extends ProgressOptions, AbortOptions {
  /** Where the state comes from. */
  log: OfflineLog
  /** Where it goes: an online sink on the store to load (without a downstream log). Flushed, never closed. */
  sink: Sink<FeatureUpdate>
  /** The instant whose state is loaded (`stateAt(at, { by: 'available' })`), e.g. the end of a backfill. */
  at: number
  /** Features to load. */
  features: readonly string[]
  /** Only these entities. @default all */
  entities?: readonly string[]
  /** Updates per `sink.write`. @default 1000 */
  batchSize?: number
  /** Accept an `at` that looks like seconds (see `StateAtOptions.allowEarlyTimes`). @default false */
  allowEarlyTimes?: boolean
}

/** What `materialize` wrote. */
export interface MaterializeResult {
  /** Updates written to the sink (one per (entity, feature), one per tile for additive features). */
  records: number
}
