/**
 * The contract of @skewless/worker: a process that owns some partitions of a stream and runs, for
 * each, one checkpointed pipeline into the online store and the partition's own offline log.
 * Dependency-free types only (the log options are the Parquet log's).
 */
import type {
  AbortOptions,
  CommittedCheckpoint,
  DeadLetter,
  Duration,
  FeatureGroup,
  LateEvent,
  Logger,
  PipelineMetrics,
  PipelineOptions,
  ResumableSource,
  Sink,
  SourcePosition,
  WatermarkOptions,
} from '@skewless/core'
import type { OfflineLog } from '@skewless/offline-log'
import type { ParquetLogOptions } from '@skewless/offline-parquet'
import type {
  ChangelogCommitterMetrics,
  OnlineSinkMetrics,
  OnlineSinkOptions,
  OnlineStore,
} from '@skewless/online-sink'

/** Options of `runWorker`. */
export interface WorkerOptions<E> {
  /** The feature definitions (`defineFeatures(...)`), the same on every worker. */
  definitions: FeatureGroup<E> | readonly FeatureGroup<E>[]
  /** The partitions this worker starts with (more can be taken later with `acquire`). May be empty. */
  partitions: readonly number[]
  /**
   * The source of one partition, e.g. `(p) => natsPartitionSources({ ..., partitions: [p] })[0]`.
   * Called each time the partition starts here. Its `name` keys the position in the partition's
   * checkpoint: keep it stable (the same partition must get the same name on every worker).
   */
  source: (partition: number) => ResumableSource<E>
  /**
   * The online store of one partition, with its **own** changelog: every partition's committer
   * moves its changelog into its own log, so partitions must not share one, e.g.
   * `(p) => redisStore({ client, changelog: { name: \`partition-${p}\` } })` (one ioredis client
   * may serve them all: a store never closes a client it was given). The worker closes the store
   * when the partition stops. A store without the `changelog` capability fails the partition.
   */
  store: (partition: number) => OnlineStore | Promise<OnlineStore>
  /**
   * The offline log of one partition: a root directory (partition `p` writes a Parquet log in
   * `<root>/partition=<p>`, see `partitionLogDir`), or a function opening it. The worker closes it
   * when the partition stops (which releases the Parquet log's writer lock).
   */
  log: string | ((partition: number) => OfflineLog | Promise<OfflineLog>)
  /** Options of the Parquet logs the worker opens from a root directory (`dir` and `features` are the worker's). */
  logOptions?: Omit<ParquetLogOptions, 'dir' | 'features'>
  /** How often each partition commits a checkpoint. @default '10s' */
  checkpointInterval?: Duration
  /** How often each partition's changelog is moved into its log between checkpoints. @default '1s' */
  changelogInterval?: Duration
  /** @deprecated Use `changelogInterval` (a `Duration`). */
  changelogIntervalMs?: number
  /** Watermark, lateness and idleness of each partition's pipeline (each partition has its own watermark). */
  watermark?: WatermarkOptions
  /** Further options of each partition's pipeline. */
  pipeline?: Pick<
    PipelineOptions<E>,
    | 'batchSize'
    | 'linger'
    | 'lingerMs'
    | 'clock'
    | 'drainTo'
    | 'failFast'
    | 'historyWarningAge'
    | 'tickInterval'
    | 'tickIntervalMs'
  >
  /** Further options of each partition's online sink (`store`, `features` and `changelog` are the worker's). */
  sink?: Omit<OnlineSinkOptions, 'store' | 'features' | 'downstream' | 'changelog'>
  /** Where a partition's late events go (always counted in its metrics). */
  lateEvents?: (partition: number) => Sink<LateEvent<E>>
  /** Where a partition's bad events go (always counted in its metrics). */
  deadLetters?: (partition: number) => Sink<DeadLetter<E>>
  /** Aborting it closes the worker, as `close()` does. */
  signal?: AbortSignal
  /**
   * Process signals that close the worker (checkpoint every partition, close everything, remove the
   * listeners: the process then exits by itself with code 0). A second signal, or a close that takes
   * longer than `shutdownTimeout`, exits at once with code 1 (what was committed stays committed:
   * a restart resumes from the last checkpoint). `false`: no listeners.
   * @default ['SIGTERM', 'SIGINT']
   */
  handleSignals?: readonly NodeJS.Signals[] | false
  /** Bound of a shutdown started by a process signal. @default '30s' */
  shutdownTimeout?: Duration
  /** @deprecated Use `shutdownTimeout` (a `Duration`). */
  shutdownTimeoutMs?: number
  /**
   * Serve `/healthz` and `/metrics` over HTTP (`node:http`). `port: 0` takes a free port (read it from
   * `worker.healthUrl`). Closed by `close()`. @default no server
   */
  health?: { port?: number; host?: string }
  /**
   * A running partition is `lagging` when its last committed checkpoint (or its start, before the
   * first) is older than this. @default 3 × checkpointInterval
   */
  lagAfter?: Duration
  /** @deprecated Use `lagAfter` (a `Duration`). */
  lagAfterMs?: number
  /**
   * Also `lagging` when the partition's watermark is further than this behind the clock (it reads
   * history, or cannot keep up). @default not checked
   */
  maxEventLag?: Duration
  /**
   * Where partition starts, stops, failures and failed checkpoints are reported (a pino logger fits);
   * also each pipeline's warnings. `false`: silent. @default JSON lines on stderr
   */
  logger?: Logger | false
}

/** State of an owned partition. */
export type PartitionState =
  /** Opening its store and log, reading its checkpoint. */
  | 'starting'
  /** Running, checkpoints committing on time. */
  | 'ready'
  /** Running, but its last committed checkpoint is older than `lagAfterMs` (or its watermark behind by more than `maxEventLag`). */
  | 'lagging'
  /** Stopped by an error (see `error`); its resources were closed. `acquire` restarts it from its checkpoint. */
  | 'failed'
  /** Being released or closed: checkpointing and closing. */
  | 'stopping'
  /** Its source ended and everything was committed (a bounded source). */
  | 'completed'

/** Health of one partition. */
export interface PartitionHealth {
  partition: number
  state: PartitionState
  /** Why it failed, or why it is lagging. */
  reason?: string
  /** When its last checkpoint was committed (ms since epoch), if one was committed by this worker. */
  lastCheckpointAt?: number
  /** Age of that checkpoint (or of the start, before the first), ms. */
  checkpointAgeMs: number
  /** The partition's watermark (ms), `null` before its first event. */
  watermark: number | null
}

/** `worker.health()` and the body of `/healthz`. */
export interface WorkerHealth {
  /** `ok` when no partition failed and the worker is not closing (HTTP 200), else `failing` (503). */
  status: 'ok' | 'failing'
  /** The worker is closing (a signal, `signal`, or `close()`). */
  closing: boolean
  partitions: PartitionHealth[]
}

/** Counters of one partition (the body of `/metrics` holds one per partition). */
export interface PartitionMetrics {
  partition: number
  state: PartitionState
  /** The pipeline's counters (events, updates, watermark, checkpoints, pause and commit times); absent if it never started. */
  pipeline?: PipelineMetrics
  /** The online sink's counters (writes, latencies, retries, dead letters). */
  sink?: OnlineSinkMetrics
  /** The changelog committer's counters (log commits, writes moved, failures). */
  committer?: ChangelogCommitterMetrics
  /** The source's own counters, when it has a `metrics()` (e.g. source-nats). */
  source?: unknown
  /** Position per source name of the last committed checkpoint. */
  positions: { [name: string]: SourcePosition }
  /** Times this partition was started by this worker. */
  starts: number
}

/** `worker.metrics()` and the body of `/metrics`. */
export interface WorkerMetrics {
  /** Partitions currently owned, sorted. */
  partitions: number[]
  /** Per owned partition. */
  byPartition: PartitionMetrics[]
  /** Sums over owned partitions. */
  totals: { eventsIn: number; updatesOut: number; checkpoints: number; checkpointFailures: number }
}

/** What `release` (and `close`) hand back for one partition. */
export interface ReleasedPartition {
  partition: number
  /** The checkpoint committed when it stopped: where the next owner resumes. `undefined` if it failed before committing one. */
  checkpoint: CommittedCheckpoint | undefined
  /** Events this worker read from the partition since it last started. */
  eventsIn: number
  /** The error it failed with, if it had failed. */
  error?: unknown
}

/** What the worker did, once closed. */
export interface WorkerSummary {
  /** Every partition owned at close. */
  partitions: ReleasedPartition[]
  /** How it was closed. */
  reason: 'close' | 'signal' | 'abort'
  /** The process signal that closed it, if one did. */
  signal?: NodeJS.Signals
}

/** A running worker (`runWorker`). */
export interface Worker extends AsyncDisposable {
  /** Partitions currently owned (running, starting, stopping or failed), sorted. */
  readonly partitions: number[]
  /** `http://host:port` of the health server, when one was asked for. */
  readonly healthUrl: string | undefined
  /**
   * Start `partition` here from its committed checkpoint (a failed one: restart it). Resolves once
   * it runs. Rejects (and the partition is `failed`) when its store, log or checkpoint cannot be
   * opened: e.g. `LogLockedError` while another live worker still owns it.
   */
  acquire(partition: number): Promise<void>
  /**
   * Stop `partition` here: commit its checkpoint, close its pipeline, sink, committer, log and store
   * (the log's writer lock is released). Another worker can then `acquire` it and resumes right
   * after this checkpoint. Resolves with that checkpoint; rejects when the final checkpoint could
   * not be committed (the next owner then resumes from the previous one: nothing is lost).
   */
  release(partition: number): Promise<ReleasedPartition>
  /**
   * Commit a checkpoint of every running partition now.
   * @throws AbortedError when `signal` aborts first (a partition's checkpoint not yet taken is
   *   withdrawn; one being committed may still complete).
   */
  checkpoint(options?: AbortOptions): Promise<void>
  /** Health per partition. */
  health(): WorkerHealth
  /** Counters per partition. */
  metrics(): WorkerMetrics
  /**
   * Release every partition, close the health server and remove the signal listeners. Idempotent.
   * Resolves even when partitions failed: see each `ReleasedPartition.error`. `signal` bounds the
   * wait: it rejects with `AbortedError` when it aborts first, while the close goes on (`closed`
   * resolves when it is done; what was committed stays committed).
   */
  close(options?: AbortOptions): Promise<WorkerSummary>
  /** Resolves once the worker is closed, however it was (a signal, `signal`, `close()`). */
  readonly closed: Promise<WorkerSummary>
}
