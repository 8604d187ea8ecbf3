/**
 * One owned partition: its store, log, changelog committer, sink and pipeline, started from the
 * checkpoint its log committed, and stopped by committing one.
 */
import {
  type CheckpointStore,
  type CommittedCheckpoint,
  createPipeline,
  type FeatureGroup,
  type FeatureInfo,
  InvalidDefinitionError,
  type Logger,
  type Pipeline,
  type ResumableSource,
} from '@skewless/core'
import type { OfflineLog } from '@skewless/offline-log'
import { parquetLog } from '@skewless/offline-parquet'
import {
  type ChangelogCommitter,
  changelogCommitter,
  type OnlineFeatureConfig,
  type OnlineSink,
  type OnlineStore,
  onlineSink,
} from '@skewless/online-sink'
import { PartitionStopError } from './errors.js'
import { partitionLogDir } from './partition-log-dir.js'
import type {
  PartitionHealth,
  PartitionMetrics,
  PartitionState,
  ReleasedPartition,
  WorkerOptions,
} from './types.js'

/** What every partition of a worker shares. */
export interface PartitionContext<E> {
  options: WorkerOptions<E>
  groups: readonly FeatureGroup<E>[]
  infos: readonly FeatureInfo[]
  configs: readonly OnlineFeatureConfig[]
  checkpointIntervalMs: number
  lagAfterMs: number
  maxEventLagMs: number | undefined
  logger: Logger
  now: () => number
}

/** Everything a running partition holds, closed in reverse order of opening. */
interface Held<E> {
  store?: OnlineStore
  log?: OfflineLog
  committer?: ChangelogCommitter
  sink?: OnlineSink
  source?: ResumableSource<E>
  pipeline?: Pipeline
}

/** A partition's life on this worker. Not reused after it stopped: a restart makes a new one. */
export class PartitionRun<E> {
  state: PartitionState = 'starting'
  error: unknown
  lastCheckpoint: CommittedCheckpoint | undefined
  lastCheckpointAt: number | undefined
  readonly startedAt: number
  private readonly held: Held<E> = {}
  private readonly stop = new AbortController()
  private running: Promise<void> | undefined
  private stopping: Promise<ReleasedPartition> | undefined
  private readonly log: Logger

  constructor(
    readonly partition: number,
    readonly starts: number,
    private readonly ctx: PartitionContext<E>,
  ) {
    this.startedAt = ctx.now()
    this.log = childLogger(ctx.logger, { partition })
  }

  /** Open everything and start the pipeline from the log's checkpoint; on failure close what was opened and throw. */
  async start(): Promise<void> {
    const { options, ctx } = { options: this.ctx.options, ctx: this.ctx }
    const p = this.partition
    try {
      const store = await options.store(p)
      this.held.store = store
      if (store.capabilities.changelog !== true) {
        throw new InvalidDefinitionError(
          `worker: the store of partition ${p} keeps no changelog; create it with its own changelog, e.g. redisStore({ changelog: { name: 'partition-${p}' } })`,
        )
      }
      const log =
        typeof options.log === 'string'
          ? await parquetLog({
              ...options.logOptions,
              dir: partitionLogDir(options.log, p),
              features: ctx.infos,
            })
          : await options.log(p)
      this.held.log = log
      const committer = changelogCommitter({
        store,
        log,
        ...(options.changelogInterval === undefined ? {} : { interval: options.changelogInterval }),
        ...(options.changelogIntervalMs === undefined ? {} : { intervalMs: options.changelogIntervalMs }),
        onError: (error) =>
          this.log.warn(
            { error: message(error) },
            'moving the changelog into the log failed; retried at the next interval',
          ),
      })
      this.held.committer = committer
      const checkpoint = await committer.latestCheckpoint()
      this.lastCheckpoint = checkpoint
      const source = options.source(p)
      this.held.source = source
      const sink = onlineSink({ ...options.sink, store, features: ctx.configs })
      this.held.sink = sink
      // Records every committed checkpoint (health: lagging; release: where the next owner resumes).
      const checkpoints: CheckpointStore = {
        latestCheckpoint: () => committer.latestCheckpoint(),
        commitCheckpoint: async (cp) => {
          await committer.commitCheckpoint(cp)
          this.lastCheckpoint = cp
          this.lastCheckpointAt = ctx.now()
        },
      }
      this.held.pipeline = createPipeline<E>({
        ...options.pipeline,
        source,
        features: ctx.groups,
        sink,
        checkpoints,
        checkpointInterval: ctx.checkpointIntervalMs,
        signal: this.stop.signal,
        logger: this.log,
        ...(options.watermark === undefined ? {} : { watermark: options.watermark }),
        ...(options.lateEvents === undefined ? {} : { lateEvents: options.lateEvents(p) }),
        ...(options.deadLetters === undefined ? {} : { deadLetters: options.deadLetters(p) }),
        ...(checkpoint === undefined ? {} : { checkpoint }),
      })
    } catch (err) {
      await this.fail(err, 'could not start')
      throw err
    }
    this.state = 'ready'
    this.log.info(
      { source: this.held.source.name, from: checkpoint(this.lastCheckpoint, this.held.source.name) },
      'partition started',
    )
    const pipeline = this.held.pipeline
    this.running = pipeline.run().then(
      async (result) => {
        if (result.ended !== 'completed') return
        // A bounded source ended: its last checkpoint is committed; free the log and the store.
        try {
          await this.closeHeld()
        } catch (err) {
          // Nobody may be awaiting this run: a failure to close is the partition's, never unhandled.
          await this.fail(err, 'failed to close after its source ended')
          return
        }
        this.state = 'completed'
        this.log.info({ eventsIn: result.metrics.eventsIn }, 'partition completed: its source ended')
      },
      (err: unknown) => this.fail(err, 'failed'),
    )
  }

  /** Stop: abort the run (it commits a last checkpoint), then close everything. Idempotent. */
  release(): Promise<ReleasedPartition> {
    this.stopping ??= this.releaseOnce()
    return this.stopping
  }

  private async releaseOnce(): Promise<ReleasedPartition> {
    const eventsIn = () => this.held.pipeline?.metrics().eventsIn ?? 0
    if (this.state === 'failed' || this.state === 'completed') {
      // A failure closes what the run held in the background: the log's writer lock is free only
      // once that is done (a restart right after would find it held).
      await this.closing?.catch(() => undefined)
      return this.released(eventsIn())
    }
    this.state = 'stopping'
    this.stop.abort()
    await this.running
    // A run that failed on its way out (the last checkpoint's commit) is 'failed' by now.
    if ((this.state as PartitionState) === 'failed') {
      const r = this.released(eventsIn())
      throw new PartitionStopError(this.partition, r)
    }
    const n = eventsIn()
    try {
      await this.closeHeld()
    } catch (err) {
      await this.fail(err, 'failed to close')
      throw new PartitionStopError(this.partition, this.released(n))
    }
    this.log.info(
      { eventsIn: n, position: checkpoint(this.lastCheckpoint, this.held.source?.name) },
      'partition released: checkpoint committed',
    )
    this.state = 'completed'
    return this.released(n)
  }

  private released(eventsIn: number): ReleasedPartition {
    return {
      partition: this.partition,
      checkpoint: this.lastCheckpoint,
      eventsIn,
      ...(this.error === undefined ? {} : { error: this.error }),
    }
  }

  /** Mark failed, say so, and close what is held (best effort: the error that failed it is the one reported). */
  private async fail(err: unknown, what: string): Promise<void> {
    this.error = err
    this.state = 'failed'
    this.log.error(
      { error: message(err), code: (err as { code?: unknown })?.code },
      `partition ${what}; its last committed checkpoint stays the resume point (acquire() it again, here or on another worker)`,
    )
    this.stop.abort()
    await this.closeHeld().catch((closeErr: unknown) =>
      this.log.warn({ error: message(closeErr) }, 'closing a failed partition failed'),
    )
  }

  /**
   * Close pipeline (and sink), committer, log, store, in that order; once. The objects stay held
   * (their counters still read). The first error is thrown after every step was tried.
   */
  private closeHeld(): Promise<void> {
    this.closing ??= (async () => {
      const h = this.held
      let first: unknown
      const step = async (close: (() => Promise<unknown>) | undefined) => {
        try {
          await close?.()
        } catch (err) {
          first ??= err
        }
      }
      await step(h.pipeline && (() => (h.pipeline as Pipeline).close()))
      await step(h.sink && (() => (h.sink as OnlineSink).close()))
      await step(h.committer && (() => (h.committer as ChangelogCommitter).close()))
      await step(h.log && (() => (h.log as OfflineLog).close()))
      await step(h.store && (() => (h.store as OnlineStore).close()))
      if (first !== undefined) throw first
    })()
    return this.closing
  }
  private closing: Promise<void> | undefined

  /** Commit a checkpoint now (a running partition); `signal` as for the pipeline's `checkpoint`. */
  async checkpoint(signal?: AbortSignal): Promise<void> {
    const p = this.held.pipeline
    if (p === undefined || (this.state !== 'ready' && this.state !== 'lagging')) return
    await p.checkpoint(signal === undefined ? undefined : { signal })
  }

  health(): PartitionHealth {
    const now = this.ctx.now()
    const since = this.lastCheckpointAt ?? this.startedAt
    const m = this.held.pipeline?.metrics()
    const watermark = m !== undefined && Number.isFinite(m.watermark) ? m.watermark : null
    let state = this.state
    let reason: string | undefined
    if (state === 'failed') reason = message(this.error)
    if (state === 'ready') {
      if (now - since > this.ctx.lagAfterMs) {
        state = 'lagging'
        reason = `no checkpoint committed for ${now - since} ms (lagAfter: ${this.ctx.lagAfterMs} ms)`
      } else if (
        this.ctx.maxEventLagMs !== undefined &&
        watermark !== null &&
        now - watermark > this.ctx.maxEventLagMs
      ) {
        state = 'lagging'
        reason = `watermark ${now - watermark} ms behind the clock (maxEventLag ${this.ctx.maxEventLagMs} ms)`
      }
    }
    return {
      partition: this.partition,
      state,
      ...(reason === undefined ? {} : { reason }),
      ...(this.lastCheckpointAt === undefined ? {} : { lastCheckpointAt: this.lastCheckpointAt }),
      checkpointAgeMs: now - since,
      watermark,
    }
  }

  metrics(): PartitionMetrics {
    const h = this.held
    const source = h.source as { metrics?: () => unknown } | undefined
    return {
      partition: this.partition,
      state: this.health().state,
      ...(h.pipeline === undefined ? {} : { pipeline: h.pipeline.metrics() }),
      ...(h.sink === undefined ? {} : { sink: h.sink.metrics() }),
      ...(h.committer === undefined ? {} : { committer: h.committer.metrics() }),
      ...(typeof source?.metrics === 'function' ? { source: source.metrics() } : {}),
      positions: this.lastCheckpoint?.sources ?? {},
      starts: this.starts,
    }
  }
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err))
const checkpoint = (cp: CommittedCheckpoint | undefined, name: string | undefined) =>
  cp === undefined || name === undefined ? null : (cp.sources[name] ?? null)

/** A logger adding `fields` to every line. */
export function childLogger(logger: Logger, fields: object): Logger {
  return {
    info: (obj, msg) => logger.info({ ...fields, ...obj }, msg),
    warn: (obj, msg) => logger.warn({ ...fields, ...obj }, msg),
    error: (obj, msg) => logger.error({ ...fields, ...obj }, msg),
  }
}
