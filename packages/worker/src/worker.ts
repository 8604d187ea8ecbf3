/**
 * `runWorker`: the entry point of a worker process. It owns a set of stream partitions and runs, for
 * each, one pipeline that resumes from the checkpoint committed in the partition's own log, writes
 * the online store (with the partition's own changelog) and, through the changelog committer, that
 * log. Partitions are independent: each has its own watermark, checkpoint, log directory and fate.
 */
import {
  type FeatureGroup,
  InvalidArgumentError,
  InvalidDefinitionError,
  type Logger,
  silentLogger,
  toMs,
} from '@skewless/core'
import { durationOption, raceAbort, throwIfAborted } from '@skewless/core/internal'
import { onlineFeatures } from '@skewless/online-sink'
import { type HealthServer, startHealthServer } from './health-server.js'
import { childLogger, type PartitionContext, PartitionRun } from './partition-run.js'
import type {
  PartitionHealth,
  ReleasedPartition,
  Worker,
  WorkerHealth,
  WorkerMetrics,
  WorkerOptions,
  WorkerSummary,
} from './types.js'

const DEFAULT_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT']

/**
 * Start a worker: open and start every partition of `options.partitions` (each from its last
 * committed checkpoint), the health server if asked, and the signal listeners. Resolves once every
 * partition runs or failed to start (a failed one is `failed` in `health()` and logged; `acquire`
 * retries it). Rejects only for invalid options or a health port that cannot be bound.
 *
 * ```ts
 * const worker = await runWorker({
 *   definitions: features,
 *   partitions: [0, 1],
 *   source: (p) => natsPartitionSources({ servers, stream: 'CLICKS', partitions: [p], partitionSubject: 'clicks.{partition}.*' })[0],
 *   store: (p) => redisStore({ client, changelog: { name: `partition-${p}` } }),
 *   log: '/data/clicks-log', // partition p in /data/clicks-log/partition=<p>
 *   health: { port: 9464 },
 * })
 * await worker.closed // SIGTERM: checkpoint, close, and the process exits by itself
 * ```
 */
export async function runWorker<E>(options: WorkerOptions<E>): Promise<Worker> {
  const ctx = context(options)
  const { logger } = ctx
  const runs = new Map<number, PartitionRun<E>>()
  const starts = new Map<number, number>()
  // One operation at a time per partition (acquire / release).
  const busy = new Map<number, Promise<unknown>>()
  let closing: Promise<WorkerSummary> | undefined
  let resolveClosed: (s: WorkerSummary) => void = () => undefined
  const closed = new Promise<WorkerSummary>((r) => {
    resolveClosed = r
  })

  const serial = <T>(partition: number, op: () => Promise<T>): Promise<T> => {
    const prev = busy.get(partition) ?? Promise.resolve()
    const next = prev.catch(() => undefined).then(op)
    busy.set(partition, next)
    next
      .finally(() => {
        if (busy.get(partition) === next) busy.delete(partition)
      })
      .catch(() => undefined)
    return next
  }

  const acquire = (partition: number): Promise<void> => {
    checkPartition(partition)
    if (closing) return Promise.reject(new InvalidArgumentError('worker: acquire() after close()'))
    return serial(partition, async () => {
      const current = runs.get(partition)
      if (current && current.state !== 'failed' && current.state !== 'completed') {
        throw new InvalidArgumentError(`worker: partition ${partition} already runs here (${current.state})`)
      }
      // A failed run already closed what it held; `release` only reports.
      if (current) await current.release().catch(() => undefined)
      const n = (starts.get(partition) ?? 0) + 1
      starts.set(partition, n)
      const run = new PartitionRun<E>(partition, n, ctx)
      runs.set(partition, run)
      await run.start()
    })
  }

  const release = (partition: number): Promise<ReleasedPartition> => {
    checkPartition(partition)
    return serial(partition, async () => {
      const run = runs.get(partition)
      if (!run) throw new InvalidArgumentError(`worker: partition ${partition} is not owned by this worker`)
      try {
        return await run.release()
      } finally {
        runs.delete(partition)
      }
    })
  }

  const health = (): WorkerHealth => {
    const partitions: PartitionHealth[] = [...runs.keys()]
      .sort((a, b) => a - b)
      .map((p) => (runs.get(p) as PartitionRun<E>).health())
    const failing = closing !== undefined || partitions.some((p) => p.state === 'failed')
    return { status: failing ? 'failing' : 'ok', closing: closing !== undefined, partitions }
  }

  const metrics = (): WorkerMetrics => {
    const owned = [...runs.keys()].sort((a, b) => a - b)
    const byPartition = owned.map((p) => (runs.get(p) as PartitionRun<E>).metrics())
    const totals = { eventsIn: 0, updatesOut: 0, checkpoints: 0, checkpointFailures: 0 }
    for (const m of byPartition) {
      totals.eventsIn += m.pipeline?.eventsIn ?? 0
      totals.updatesOut += m.pipeline?.updatesOut ?? 0
      totals.checkpoints += m.pipeline?.checkpoints ?? 0
      totals.checkpointFailures += m.pipeline?.checkpointFailures ?? 0
    }
    return { partitions: owned, byPartition, totals }
  }

  let server: HealthServer | undefined
  const signals = options.handleSignals === false ? [] : (options.handleSignals ?? DEFAULT_SIGNALS)
  const shutdownTimeoutMs =
    durationOption(
      'runWorker',
      'shutdownTimeout',
      options.shutdownTimeout,
      'shutdownTimeoutMs',
      options.shutdownTimeoutMs,
    ).ms ?? 30_000
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      logger.error(
        { signal },
        'second signal while closing: exiting at once (a restart resumes from the last checkpoint)',
      )
      process.exit(1)
    }
    logger.info({ signal }, 'closing: committing a checkpoint of every partition')
    const timer = setTimeout(() => {
      logger.error(
        { signal, shutdownTimeoutMs },
        'shutdown took longer than shutdownTimeout: exiting at once (a restart resumes from the last checkpoint)',
      )
      process.exit(1)
    }, shutdownTimeoutMs)
    timer.unref()
    closeWith('signal', signal).then(
      (summary) => {
        clearTimeout(timer)
        if (summary.partitions.some((p) => p.error !== undefined)) process.exitCode = 1
      },
      () => {
        clearTimeout(timer)
        process.exitCode = 1
      },
    )
  }
  const onAbort = () => {
    closeWith('abort').catch(() => undefined)
  }

  const closeWith = (reason: WorkerSummary['reason'], signal?: NodeJS.Signals): Promise<WorkerSummary> => {
    closing ??= (async () => {
      for (const s of signals) process.off(s, onSignal)
      options.signal?.removeEventListener('abort', onAbort)
      const owned = [...runs.keys()].sort((a, b) => a - b)
      const partitions = await Promise.all(
        owned.map((p) =>
          release(p).catch((err: unknown) => {
            const known = (err as { released?: ReleasedPartition }).released
            return known ?? { partition: p, checkpoint: undefined, eventsIn: 0, error: err }
          }),
        ),
      )
      await server?.close()
      const summary: WorkerSummary = { partitions, reason, ...(signal === undefined ? {} : { signal }) }
      logger.info(
        {
          reason,
          partitions: partitions.map((p) => ({ partition: p.partition, failed: p.error !== undefined })),
        },
        'worker closed',
      )
      resolveClosed(summary)
      return summary
    })()
    return closing
  }

  // Listen before starting partitions: a SIGTERM during a slow start still closes cleanly.
  for (const s of signals) process.on(s, onSignal)
  if (options.signal?.aborted) onAbort()
  else options.signal?.addEventListener('abort', onAbort, { once: true })

  try {
    if (options.health !== undefined) {
      server = await startHealthServer(
        options.health.host ?? '127.0.0.1',
        options.health.port ?? 0,
        health,
        metrics,
      )
    }
  } catch (err) {
    await closeWith('close')
    throw err
  }
  // A partition that cannot start is reported (state, logger) and does not stop the others.
  await Promise.all(options.partitions.map((p) => acquire(p).catch(() => undefined)))
  logger.info({ partitions: [...options.partitions], health: server?.url ?? null }, 'worker started')

  return {
    get partitions() {
      return [...runs.keys()].sort((a, b) => a - b)
    },
    get healthUrl() {
      return server?.url
    },
    acquire,
    release,
    async checkpoint(call) {
      throwIfAborted(call?.signal, 'worker.checkpoint()')
      await Promise.all([...runs.values()].map((r) => r.checkpoint(call?.signal)))
    },
    health,
    metrics,
    close: (call) => raceAbort(closeWith('close'), call?.signal, 'worker.close()'),
    closed,
    async [Symbol.asyncDispose]() {
      await closeWith('close')
    },
  }
}

function context<E>(options: WorkerOptions<E>): PartitionContext<E> {
  if (options === null || typeof options !== 'object')
    throw new InvalidDefinitionError('worker: runWorker needs options')
  if (typeof options.source !== 'function') {
    throw new InvalidDefinitionError(
      'worker runWorker: `source` must be a function (partition) => ResumableSource',
    )
  }
  if (typeof options.store !== 'function') {
    throw new InvalidDefinitionError(
      'worker runWorker: `store` must be a function (partition) => OnlineStore, each partition with its own changelog',
    )
  }
  if (typeof options.log !== 'string' && typeof options.log !== 'function') {
    throw new InvalidDefinitionError(
      'worker runWorker: `log` must be a root directory or a function (partition) => OfflineLog',
    )
  }
  if (!Array.isArray(options.partitions))
    throw new InvalidDefinitionError('worker runWorker: `partitions` must be an array')
  for (const p of options.partitions) checkPartition(p)
  if (new Set(options.partitions).size !== options.partitions.length) {
    throw new InvalidDefinitionError(`worker runWorker: partitions repeat: ${options.partitions.join(', ')}`)
  }
  const groups = (
    Array.isArray(options.definitions) ? options.definitions : [options.definitions]
  ) as FeatureGroup<E>[]
  if (groups.length === 0 || groups.some((g) => typeof g?.describe !== 'function')) {
    throw new InvalidDefinitionError('worker runWorker: `definitions` must be defineFeatures(...) groups')
  }
  const infos = groups.flatMap((g) => g.describe())
  const checkpointIntervalMs = toMs(options.checkpointInterval ?? '10s')
  if (!(checkpointIntervalMs > 0)) {
    throw new InvalidDefinitionError(
      `worker runWorker: checkpointInterval must be > 0, got ${String(options.checkpointInterval)}`,
    )
  }
  const lagAfter = durationOption('runWorker', 'lagAfter', options.lagAfter, 'lagAfterMs', options.lagAfterMs)
  const lagAfterMs = lagAfter.ms ?? 3 * checkpointIntervalMs
  if (!(lagAfterMs > 0))
    throw new InvalidDefinitionError(`worker runWorker: ${lagAfter.name} must be > 0, got ${lagAfterMs}`)
  const logger =
    options.logger === false
      ? silentLogger
      : childLogger(options.logger ?? jsonLinesLogger(), { component: 'worker' })
  const clock = options.pipeline?.clock
  return {
    options,
    groups,
    infos,
    configs: onlineFeatures(infos),
    checkpointIntervalMs,
    lagAfterMs,
    maxEventLagMs: options.maxEventLag === undefined ? undefined : toMs(options.maxEventLag),
    logger,
    now: clock ? () => clock.now() : Date.now,
  }
}

function checkPartition(p: number): void {
  if (!Number.isInteger(p) || p < 0) {
    throw new InvalidArgumentError(`worker: a partition is a whole number >= 0, got ${String(p)}`)
  }
}

/** The default logger: one JSON object per line on stderr, every level (a worker's starts and stops matter). */
export function jsonLinesLogger(
  write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Logger {
  const line = (level: string) => (obj: object, msg?: string) => {
    let text: string
    try {
      text = JSON.stringify({ time: new Date().toISOString(), level, msg, ...obj })
    } catch {
      text = JSON.stringify({ time: new Date().toISOString(), level, msg })
    }
    write(text)
  }
  return { info: line('info'), warn: line('warn'), error: line('error') }
}
