/**
 * The contracts of @skewless/online-sink: the `OnlineStore` every online adapter implements
 * (memory here, Redis in @skewless/online-redis), the async sink that writes a pipeline's updates
 * into it, and the reader that serves feature vectors at inference time.
 *
 * Dependency-free: nothing here imports a client library. Time is ms since the Unix epoch.
 */
import type {
  AbortOptions,
  Clock,
  Duration,
  FeatureUpdate,
  FeatureValue,
  FeatureWrite,
  Logger,
  OnlineFeatureConfig,
  ServedRecord,
  Sink,
  SourcePosition,
  TelemetryOptions,
  WriteOutcome,
  WriteStrategy,
} from '@skewless/core'

/** Declared once, in core (the audit and the join take them too); re-exported for this package's users. */
export type { OnlineFeatureConfig, ServedRecord, WriteStrategy }

/** Capabilities of a store, as data: the sink, the reader and the conformance suite branch on these. */
export interface OnlineStoreCapabilities {
  /** Atomic compare-and-set on `(eventTime, version)` (strategy `cas`). */
  cas: boolean
  /** Per-tile partial aggregates combined at read time (strategy `additive`). */
  additive: boolean
  /** Physical expiry of values past their feature's TTL. */
  ttl: boolean
  /** Data is sharded across nodes; batches are split by shard (slot). */
  cluster: boolean
  /** Data survives a restart of the sink's process (not of the store). */
  durable: boolean
  /**
   * Every write `apply` applies is appended, in the same atomic step, to a changelog in the store
   * with the store's own time as `availableTime` (`readChangelog`, `trimChangelog`). Enabled by the
   * store's `changelog` option: someone (`changelogCommitter`) must consume and trim it.
   */
  changelog: boolean
}

/** Options of `OnlineStore.apply`. */
export interface ApplyOptions {
  /**
   * Append the applied writes to the changelog (stores with the `changelog` capability). `false`
   * for writes whose values the log already holds, such as `materialize()`. @default true
   */
  changelog?: boolean
}

/** Options of `OnlineStore.readChangelog`. */
export interface ReadChangelogOptions {
  /** Most writes returned (a store may return a few more to finish one atomic step). A whole number >= 1. */
  limit: number
  /**
   * Read no further than this position (one `changelogHead()` returned): `end` is then true once it
   * is reached, however much was written after it. @default no bound
   */
  upTo?: SourcePosition
}

/** A page of the changelog. */
export interface ChangelogPage {
  /**
   * Applied writes in the order the store applied them, `outcome: 'applied'`, `availableTime` the
   * store's time of the atomic step that applied them (the instant they became readable).
   */
  writes: FeatureWrite[]
  /** Position after the last write returned (pass it to the next read); the `after` given when nothing was read. */
  position: SourcePosition | undefined
  /** True when the read reached the end of the changelog at the time of the call. */
  end: boolean
}

/** Stable codes of permanent (non-retryable) write failures. */
export type PermanentErrorCode =
  | 'wrong-type'
  | 'script-error'
  | 'serialization'
  | 'unknown-feature'
  | 'rejected'

/** A write that the store refused permanently; retrying it cannot succeed. */
export interface PermanentWriteFailure {
  /** Machine-readable reason (the dead letter's `reason`). */
  reason: PermanentErrorCode
  /** Human-readable (e.g. the server's error message). */
  message: string
}

/** What the store did with each write of a batch. */
export interface ApplyResult {
  /**
   * Aligned with the input batch: `'applied'`, `'stale'` (CAS rejected it as not newer), or a
   * permanent failure of that write alone (the rest of the batch still landed).
   */
  outcomes: (WriteOutcome | PermanentWriteFailure)[]
}

/** What the store holds for one (entity, feature). Raw: no TTL filtering, tiles not combined. */
export interface StoredValue {
  /** The stored value. */
  value: FeatureValue
  /** Its event time. */
  eventTime: number
  /** Its version (tie-breaker for equal event times). */
  version: number
}

/** One stored tile of an additive feature. */
export interface StoredTile extends StoredValue {
  /** Start (inclusive) of the tile. */
  tileStart: number
}

/** Raw contents of one (entity, feature) as read from the store. */
export type StoredEntry =
  | { kind: 'value'; stored: StoredValue }
  | { kind: 'tiles'; tiles: StoredTile[] }
  | { kind: 'missing' }

/**
 * An online store adapter. It applies batches of writes and reads raw entries; TTL filtering and
 * the additive sum are done once, in the reader, so every adapter serves identical vectors.
 *
 * Errors: `apply` and `read` reject with `StoreUnavailableError` (`transient: true`) for errors
 * worth retrying (connection lost, timeout, LOADING, TRYAGAIN, CLUSTERDOWN); any other rejection is
 * permanent for the whole batch. Per-write permanent failures come back in `ApplyResult.outcomes`.
 */
export interface OnlineStore {
  /** Adapter name for errors and metrics, e.g. `'memory'`, `'redis'`. */
  readonly name: string
  /** What this store can do. */
  readonly capabilities: OnlineStoreCapabilities
  /**
   * Apply a batch atomically per write (not per batch). At most one write per (entity, feature[,
   * tileStart]) key per batch; the sink guarantees it. The store never reorders writes of one key.
   */
  apply(
    writes: readonly FeatureUpdate[],
    features: ReadonlyMap<string, OnlineFeatureConfig>,
    options?: ApplyOptions,
  ): Promise<ApplyResult>
  /**
   * Changelog stores only: the applied writes after `after` (`undefined`: from the oldest kept), in
   * apply order. Positions are the store's own (opaque JSON), totally ordered.
   */
  readChangelog?(after: SourcePosition | undefined, options: ReadChangelogOptions): Promise<ChangelogPage>
  /** Changelog stores only: forget the writes up to and including `upTo` (they are in the log). */
  trimChangelog?(upTo: SourcePosition): Promise<void>
  /**
   * Changelog stores only: the position of the newest write in the changelog now (`undefined` when
   * it holds none), so a reader can stop there while writes go on (`ReadChangelogOptions.upTo`).
   */
  changelogHead?(): Promise<SourcePosition | undefined>
  /** Read raw entries, `result[i][j]` for `entities[i]`, `features[j]`, in one round trip per shard. */
  read(entities: readonly string[], features: readonly OnlineFeatureConfig[]): Promise<StoredEntry[][]>
  /** Release connections the store opened itself (never a client the user passed in). */
  close(): Promise<void>
}

/** Retry policy for transient errors: exponential backoff with full jitter. */
export interface RetryOptions {
  /**
   * Attempts after the first one before the batch is dead-lettered: a whole number >= 0, or
   * `Infinity` to retry forever (bound a shutdown with `close({ signal })`). @default Infinity
   */
  retries?: number
  /** First backoff delay, 0 to 2^31 − 1 ms. @default '20ms' */
  minDelay?: Duration
  /** @deprecated Use `minDelay` (a `Duration`). */
  minDelayMs?: number
  /** Backoff cap, `minDelay` to 2^31 − 1 ms. @default max(2s, minDelay) */
  maxDelay?: Duration
  /** @deprecated Use `maxDelay` (a `Duration`). */
  maxDelayMs?: number
  /** Backoff multiplier per attempt, a finite number >= 1. @default 2 */
  factor?: number
}

/** A write the sink gave up on, with the reason. */
export interface OnlineDeadLetter {
  /** The update as received. */
  update: FeatureUpdate
  /**
   * Machine-readable reason: a permanent store failure, `'retries-exhausted'`, or `'aborted'` when
   * `close({ signal })` was aborted before the store acknowledged the write (it may or may not have
   * landed when it was at the store then; the reason says which). The sink itself checks each
   * update before the store call: `'serialization'` for a value that does not fit the feature's
   * `valueType`, `'rejected'` for a time the offline log cannot store (core's `isStorableTime`), a
   * non-integer version or a non-string entity; only that write is dead-lettered.
   */
  reason: PermanentErrorCode | 'retries-exhausted' | 'aborted'
  /** Human-readable: what happened, e.g. the store's error message. */
  message: string
  /**
   * The same value as `reason`.
   * @deprecated Read `reason`. (Before 0.2 `reason` held the human-readable text, now `message`.)
   */
  code: PermanentErrorCode | 'retries-exhausted' | 'aborted'
}

/** Options of `onlineSink`. */
export interface OnlineSinkOptions extends TelemetryOptions {
  /** Where to write. */
  store: OnlineStore
  /** Every feature the sink accepts; updates of other features are dead-lettered (`unknown-feature`). */
  features: readonly OnlineFeatureConfig[]
  /**
   * Receives every acknowledged write with `availableTime` and `outcome` stamped, e.g. the offline log.
   * Its `write` promise applies backpressure to the sink. @default none
   */
  downstream?: Sink<FeatureWrite>
  /** Forward writes rejected as `stale` downstream too (the log then shows rejected zombies). @default true */
  forwardStale?: boolean
  /**
   * On a store with the `changelog` capability, record the applied writes in the store's changelog.
   * `false` for a sink whose writes the log already holds (the sink `materialize()` writes through).
   * @default true
   */
  changelog?: boolean
  /**
   * Receives writes that failed permanently. When unset they are counted (`metrics().deadLetters`,
   * per reason in `deadLettersByReason`) and a rate-limited warning per code goes to `logger`.
   */
  deadLetters?: Sink<OnlineDeadLetter>
  /**
   * Where retries, dead letters without an output and an unreachable store are reported, as
   * summaries (the first at once, then at most one line per kind every 10 s with a count; a pino
   * logger fits). `false` or `null`: silent. @default warnings to stderr, each message at most once a minute
   */
  logger?: Logger | false | null
  /** Stamps `availableTime`. @default systemClock */
  clock?: Clock
  /** Max writes per store call (one Redis pipeline / script call); a whole number >= 1. @default 1000 */
  maxBatchSize?: number
  /** Max time an update waits for a batch to fill before it is sent, 0 to 2^31 − 1 ms. @default '1ms' */
  linger?: Duration
  /** @deprecated Use `linger` (a `Duration`). */
  lingerMs?: number
  /** Max store calls in flight (p-limit); a whole number >= 1. @default 8 */
  maxInFlightBatches?: number
  /**
   * Max updates buffered (pending + in flight, including writes waiting for `downstream`); at or beyond
   * it `write` returns a promise that waits. `write` always takes its whole batch, so memory is bounded
   * by this plus one input batch, plus up to this many remembered idle keys (about 100 bytes each,
   * so a key that comes back soon is not indexed again). A whole number >= 1 (finite: memory grows
   * with it). @default 100_000
   */
  maxBufferedUpdates?: number
  /**
   * A store call slower than this counts as a transient failure and is retried; 0 to 2^31 − 1 ms,
   * `0` for no timeout. @default '5s'
   */
  timeout?: Duration
  /** @deprecated Use `timeout` (a `Duration`). */
  timeoutMs?: number
  /** Retry policy for transient failures. */
  retry?: RetryOptions
}

/** A latency distribution summary (ms). */
export interface HistogramSnapshot {
  count: number
  min: number
  max: number
  mean: number
  p50: number
  p90: number
  p99: number
  p999: number
}

/** Counters and distributions of an online sink. Counters are monotonic. */
export interface OnlineSinkMetrics {
  /** Updates received by `write`. */
  updates: number
  /** Writes sent to the store (after coalescing); a retried write counts once. */
  writes: number
  /** Writes the store applied. */
  applied: number
  /** Writes the store rejected as stale. */
  stale: number
  /** Updates replaced by a newer update of the same key before being sent. */
  coalesced: number
  /** Store calls retried after a transient failure. */
  retries: number
  /** Updates dead-lettered (sent to the dead-letter output, or counted and logged without one). */
  deadLetters: number
  /** `deadLetters` per reason, e.g. `{ serialization: 2, 'retries-exhausted': 100 }`. */
  deadLettersByReason: Record<string, number>
  /** The same counts. @deprecated Read `deadLettersByReason` (the same counts; one name, reason, for the machine-readable reason). */
  deadLettersByCode: Record<string, number>
  /**
   * Records the downstream (an offline log with `metrics()`) rejected as dead letters, e.g. a
   * value its declared type does not take; 0 for a downstream without metrics.
   */
  logDeadLetters: number
  /** `logDeadLetters` per reason (`invalid-value`, `unknown-feature`, `invalid-time`). */
  logDeadLettersByReason: Record<string, number>
  /** The same counts. @deprecated Read `logDeadLettersByReason` (the same counts; one name, reason, for the machine-readable reason). */
  logDeadLettersByCode: Record<string, number>
  /** Batches in flight now: at the store, or acknowledged and waiting for `downstream` to take them. */
  inFlightBatches: number
  /** Updates buffered now (pending + in flight). */
  buffered: number
  /** Store call latency (ms). */
  writeLatencyMs: HistogramSnapshot
  /** `availableTime − eventTime` of applied writes (ms). */
  freshnessMs: HistogramSnapshot
}

/** Options of `OnlineSink.flush()` and `OnlineSink.close()`. */
export interface OnlineSinkWaitOptions extends AbortOptions {
  /**
   * Bounds the wait for the store (with `retries: Infinity`, a store that stays down would make it
   * endless). `flush`: rejects with `SinkAbortedError` (code `aborted`) when it aborts first; the
   * writes stay buffered and are still retried. `close`: when it aborts, the sink stops retrying and
   * dead-letters (code `aborted`) every write the store has not acknowledged, then closes the
   * outputs. The outputs' own writes, flush and close are still awaited: they are yours to bound.
   * @default none: wait as long as it takes
   */
  signal?: AbortSignal
}

/**
 * The async online sink: a `Sink<FeatureUpdate>` for `createPipeline`. `close()` flushes and closes
 * `downstream` and `deadLetters` but never the store (the caller owns it; sinks and readers share it).
 */
export interface OnlineSink extends Sink<FeatureUpdate> {
  /**
   * A barrier: resolves once every update passed to `write()` before this call has its outcome
   * (applied, stale or dead-lettered; an update replaced by a newer one of its key, once that one has
   * its outcome), and then `downstream` and `deadLetters` took them and were flushed. Updates written
   * after the call never delay it; pending updates go out at once (no `lingerMs`).
   * @throws SinkAbortedError when `options.signal` aborts first, or already has (the writes stay
   * buffered and are still retried).
   * @throws DownstreamError when `downstream` or `deadLetters` failed.
   */
  flush(options?: OnlineSinkWaitOptions): Promise<void>
  /**
   * Reject later writes, flush, then close `downstream` and `deadLetters` (never the store). Calling it
   * again returns the same promise; a `signal` given to a later call bounds the close too.
   * @throws SinkAbortedError when `options.signal` aborted with writes not acknowledged and there is no
   * `deadLetters` output to take them (they are counted in `metrics().deadLetters`).
   * @throws DownstreamError when `downstream` or `deadLetters` failed.
   */
  close(options?: OnlineSinkWaitOptions): Promise<void>
  /** Current metrics. */
  metrics(): OnlineSinkMetrics
}

/** One served value. */
export interface ServedValue {
  /** The value (for additive features: the sum of the window's tiles; 0 when none is in the window). */
  value: FeatureValue
  /**
   * Event time of the value. Additive: the greatest event time of the summed tiles; when tiles exist
   * but none is in the window (value `0`), the instant the newest of them left the window.
   */
  eventTime: number
  /** `readTime − eventTime` (ms); `readTime` is taken when the store answered. */
  ageMs: number
}

/** A feature vector of one entity: feature name → served value, `null` when missing or past its TTL. */
export interface FeatureVector {
  entity: string
  values: Record<string, ServedValue | null>
}

/** Options of `onlineReader`. */
export interface OnlineReaderOptions extends TelemetryOptions {
  /** Where to read. */
  store: OnlineStore
  /** Features it can serve (TTL, strategy, window for additive sums). */
  features: readonly OnlineFeatureConfig[]
  /** Read time for ages, TTL and additive windows. @default systemClock */
  clock?: Clock
  /** Receives every served value, for the skew audit. @default none */
  servedLog?: Sink<ServedRecord>
}

/** `OnlineReader.metrics()`: what the reader served so far. */
export interface OnlineReaderMetrics {
  /** `get` calls answered. */
  gets: number
  /** Feature vectors returned (one per entity asked for). */
  vectors: number
  /** Feature values served (not `null`). */
  values: number
  /** Feature values served as `null` (missing, or past their TTL). */
  nulls: number
  /** `get` calls that failed (the store's error, or `AbortedError`). */
  failures: number
}

/** Serves feature vectors. */
export interface OnlineReader {
  /**
   * One vector per entity, in input order, in one round trip per shard. Keys are normalised as the
   * pipeline normalises them (core's `entityKey`: a number or bigint is read as `String(n)`), and
   * each vector's `entity` is that string. `signal` stops waiting for the store (the read itself,
   * one round trip, is not interrupted: its answer is dropped) and nothing is sent to `servedLog`.
   * @throws InvalidArgumentError for a key that is not a non-empty string, a finite number or a bigint;
   *   AbortedError when `signal` aborts before the vectors are built.
   */
  get(
    entities: readonly (string | number | bigint)[],
    features: readonly string[],
    options?: AbortOptions,
  ): Promise<FeatureVector[]>
  /** A snapshot of the reader's counters. */
  metrics(): OnlineReaderMetrics
}
