/**
 * The contract of @skewless/feature-store: one object for the common path, built from the feature
 * definitions, an online store and an offline log. Everything it does is done by the packages below
 * it (core, online-sink, offline-log, asof-join), which stay usable on their own; the definitions
 * are given once and drive the reader, the sinks, the backfill, the join and the audit.
 */
import type {
  AsOfJoinOptions,
  FeatureRequest,
  Labels,
  ServedValueRecord,
  SkewAuditOptions,
  SkewReport,
} from '@skewless/asof-join'
import type {
  AbortOptions,
  CheckpointData,
  Clock,
  CommittedCheckpoint,
  DeadLetter,
  Duration,
  FeatureGroup,
  FeatureInfo,
  LateEvent,
  Logger,
  PipelineResult,
  ResumableSource,
  Sink,
  Source,
  WatermarkOptions,
} from '@skewless/core'
import type { BackfillResult, MaterializeResult, OfflineLog } from '@skewless/offline-log'
import type { OnlineSinkMetrics, OnlineStore, ServedRecord, ServedValue } from '@skewless/online-sink'
import type { Table } from 'apache-arrow'

/** An entity key as the reader accepts it: numbers and bigints are keyed by `String(n)`, as the pipeline keys them. */
export type EntityKey = string | number | bigint

/** Something given either as an instance (yours: the facade never closes it) or as a factory (the facade's: `close()` closes it). */
export type Owned<T, A extends unknown[] = []> = T | ((...args: A) => T | Promise<T>)

/** Options of `featureStore`. */
export interface FeatureStoreOptions<E, K extends string = string> {
  /** The feature definitions (`defineFeatures(...)`): the one source of truth for both paths. */
  features: FeatureGroup<E, K>
  /**
   * The online store: an instance (e.g. `memoryStore()`, `redisStore(...)`), which stays yours, or a
   * factory the facade calls once and closes in `close()`.
   */
  online: Owned<OnlineStore>
  /**
   * The offline log: an instance, which stays yours, or a factory given the definitions (e.g.
   * `(features) => parquetLog({ dir, features })`), which the facade closes in `close()`.
   */
  offline: Owned<OfflineLog, [features: FeatureInfo[]]>
  /** Watermark, lateness and idleness of `ingest` and `backfill`. @default core's defaults */
  watermark?: WatermarkOptions
  /** Processing-time clock (stamps, TTL, `materialize()`'s default instant). @default systemClock */
  clock?: Clock
  /** Where late events of `ingest` and `backfill` go (they are always counted). @default none */
  lateEvents?: Sink<LateEvent<E>>
  /** Where bad events of `ingest` and `backfill` go (they are always counted). @default none */
  deadLetters?: Sink<DeadLetter<E>>
  /** Receives every value `getOnlineFeatures` served, for `audit()`. @default none */
  servedLog?: Sink<ServedRecord>
  /** With a changelog store and a `ResumableSource`: how often `ingest` commits a checkpoint. @default '10s' */
  checkpointInterval?: Duration
  /** Where `ingest`'s warnings go (a pino logger fits); `false`: silent. @default core's rate-limited stderr logger */
  logger?: Logger | false | null
  /** `ingest` warns once when it reads events older than this behind the clock (history belongs in `backfill`). @default '1d' */
  historyWarningAge?: Duration
}

/** Options of the calls that may run long: core's one `AbortOptions`. */
export type { AbortOptions } from '@skewless/core'

/** Options of `ingest`. */
export interface IngestOptions extends AbortOptions {
  /**
   * Resume from this operator state (e.g. `(await fs.backfill(history)).checkpoint`).
   * @default with a changelog store and a `ResumableSource`: the checkpoint the log last committed;
   * otherwise the state the previous `ingest` or `backfill` of this object ended with (none at first)
   */
  checkpoint?: CheckpointData | CommittedCheckpoint
}

/** What `ingest` did. */
export interface IngestResult extends PipelineResult {
  /** The online sink's counters (writes, stale, dead letters, freshness). */
  sink: OnlineSinkMetrics
  /**
   * How the writes reached the log: `'changelog'` (the store's changelog, exactly once, with
   * checkpoints committed by the log when the source is resumable) or `'downstream'` (the sink
   * forwards each acknowledged write).
   */
  logPath: 'changelog' | 'downstream'
  /** The operator state at the end: the next `ingest` or `backfill` of this object continues from it. */
  checkpoint: CheckpointData
}

/** Options of `backfill`. */
export interface BackfillCallOptions extends AbortOptions {
  /** Added to each simulated `availableTime`: the live pipeline's write and processing latency. @default 0 */
  availabilityDelay?: Duration
}

/** Options of `compact`: `signal` and whatever the log's `compact()` takes, passed through. */
export interface CompactCallOptions extends AbortOptions {
  readonly [option: string]: unknown
}

/** Options of `materialize`. */
export interface MaterializeCallOptions extends AbortOptions {
  /** The instant whose state is loaded into the online store. @default clock.now() */
  at?: number
  /** Only these entities. @default all */
  entities?: readonly EntityKey[]
}

/** A feature vector with typed feature names. */
export interface TypedFeatureVector<K extends string> {
  /** The entity key, normalised to its string. */
  entity: string
  /** Feature name → served value, `null` when missing or past its TTL. */
  values: Record<K, ServedValue | null>
}

/** A request for one feature of the store, with per-feature join options. */
export type HistoricalFeature<K extends string> = K | (FeatureRequest & { name: K })

/** Options of `getHistoricalFeatures`: the join's, without what the store supplies. */
export interface HistoricalOptions extends Omit<AsOfJoinOptions, 'features' | 'definitions'>, AbortOptions {}

/** Options of `audit`. */
export interface AuditOptions extends Omit<SkewAuditOptions, 'features' | 'definitions'>, AbortOptions {}

/** One feature as the registry lists it: its definition with description, owner and tags. */
export type FeatureDescription = FeatureInfo

/** The feature store. Create it with `featureStore`; `await using` closes it. */
export interface FeatureStore<E, K extends string = string> extends AsyncDisposable {
  /** The feature names, in definition order. */
  readonly names: readonly K[]
  /** The online store it writes and reads. */
  readonly online: OnlineStore
  /** The offline log it writes and joins. */
  readonly offline: OfflineLog
  /**
   * Run a live stream through the features into the online store and the offline log until the
   * source ends or `signal` aborts (then what was processed is flushed, and the result says
   * `ended: 'aborted'`). With a changelog store the log is written from the store's changelog, and
   * a `ResumableSource` resumes from the checkpoint the log committed. One ingest at a time.
   * @throws InvalidArgumentError when an ingest or backfill is already running; ClosedError after close().
   */
  ingest(source: Source<E> | ResumableSource<E>, options?: IngestOptions): Promise<IngestResult>
  /**
   * Compute history into the offline log at event granularity, with simulated `availableTime`s
   * (offline-log's `backfill`), from the state the previous call ended with; the online store is
   * not written (`materialize()` loads it). The next `ingest` continues where the history stops
   * (the result's `checkpoint` says where, for another process).
   */
  backfill(source: Source<E> | ResumableSource<E>, options?: BackfillCallOptions): Promise<BackfillResult>
  /**
   * Load the online store with the state the log says it held at `at` (never recorded again in the
   * store's changelog: the log has these writes).
   * @throws AbortedError when `signal` aborts (before the load, while the state is read, or between
   *   two batches written: those written stay written).
   */
  materialize(options?: MaterializeCallOptions): Promise<MaterializeResult>
  /** Serve feature vectors (all features by default), with the definitions' TTLs; `values` has exactly the requested names. */
  getOnlineFeatures<F extends K = K>(
    entities: readonly EntityKey[],
    features?: readonly F[],
    options?: AbortOptions,
  ): Promise<TypedFeatureVector<F>[]>
  /**
   * A leak-free training set: each label row with what the online store served at its time, the
   * definitions' TTLs and tile windows applied (`maxAge`/`window` in a request override them).
   * @throws AbortedError when `signal` aborts (the join stops between two log batches).
   */
  getHistoricalFeatures(
    labels: Labels,
    features?: readonly HistoricalFeature<K>[],
    options?: HistoricalOptions,
  ): Promise<Table>
  /**
   * Compare served values (e.g. collected through `servedLog`) with the log: any mismatch is skew.
   * @throws AbortedError when `signal` aborts (between two log batches).
   */
  audit(served: readonly ServedValueRecord[], options?: AuditOptions): Promise<SkewReport>
  /**
   * Merge the log's small files (logs with a `compact()` method, such as the Parquet log), with the
   * log's own options (the Parquet log's `features`, `before`, `minFiles`); resolves with its report.
   * @throws UnsupportedOperationError when the log cannot compact.
   */
  compact(options?: CompactCallOptions): Promise<unknown>
  /** The registry: every feature with its definition, TTL, description, owner and tags. */
  describe(): FeatureDescription[]
  /**
   * Abort a running ingest and wait for it, then close what the facade created (the stores built
   * from factories); instances you passed stay open. Idempotent.
   */
  close(): Promise<void>
}
