/**
 * The changelog committer: moves what the online store's changelog recorded into the offline log,
 * and commits pipeline checkpoints in the same atomic log commit as the writes they cover. The log
 * is the system of record (docs/decisions/checkpoint-protocol.md):
 *
 * - the store appends every applied write, in the same atomic step, to its changelog with the
 *   store's own time as `availableTime`: whatever was ever readable is in the changelog;
 * - this committer appends changelog pages to the log with the changelog position as a commit mark,
 *   then trims what the log holds;
 * - a checkpoint (taken after the pipeline's sinks flushed) is committed with the changelog read to
 *   its end, so the log holds every write the checkpoint covers, and the position it recorded says
 *   where to resume reading the changelog.
 * After a crash, the replayed writes the store already holds are rejected as stale by
 * compare-and-set and never reach the changelog again; those that were applied before the crash are
 * in the changelog after the log's position. Each applied write is logged exactly once.
 */
import {
  AbortedError,
  type AbortOptions,
  type CheckpointLog,
  type CheckpointStore,
  type CommitMarks,
  type CommittedCheckpoint,
  type Duration,
  type FeatureWrite,
  InvalidDefinitionError,
  type SourcePosition,
} from '@skewless/core'
import { checkNumber, durationOption } from '@skewless/core/internal'
import type { OnlineStore } from './types.js'

/** Options of `changelogCommitter`. */
export interface ChangelogCommitterOptions {
  /** A store created with its changelog on (capability `changelog`). */
  store: OnlineStore
  /** The offline log: the system of record of writes and checkpoints. */
  log: CheckpointLog
  /**
   * How often the changelog is moved into the log between checkpoints, so the log stays close
   * behind the store and the changelog stays short; `0`: only at checkpoints and `drain()`. @default '1s'
   */
  interval?: Duration
  /** @deprecated Use `interval` (a `Duration`). */
  intervalMs?: number
  /** Writes per changelog read. @default 10_000 */
  pageSize?: number
  /** Writes per log commit at most (a longer backlog is committed in several). @default 200_000 */
  maxWritesPerCommit?: number
  /** Told about background failures (they are retried at the next interval and counted). */
  onError?: (error: unknown) => void
}

/** Counters of a changelog committer. */
export interface ChangelogCommitterMetrics {
  /** Log commits made. */
  commits: number
  /** Writes moved into the log. */
  writes: number
  /** Checkpoints committed. */
  checkpoints: number
  /** Background drains that failed (retried at the next interval). */
  failures: number
  /** Changelog position the log holds everything up to, when known. */
  position: SourcePosition | undefined
  /** Duration of the last checkpoint commit (ms). */
  lastCheckpointMs: number
  /** Records the log rejected to its own dead-letter output (its `metrics()`; 0 for a log without). */
  logDeadLetters: number
  /** `logDeadLetters` per reason. */
  logDeadLettersByReason: Record<string, number>
  /** The same counts. @deprecated Read `logDeadLettersByReason` (the same counts; one name, reason, for the machine-readable reason). */
  logDeadLettersByCode: Record<string, number>
}

/** Options of `drain`: `signal` stops the drain between two pages (what was committed stays committed). */
export interface DrainOptions extends AbortOptions {}

/** A `CheckpointStore` over a changelog store and an offline log. */
export interface ChangelogCommitter extends CheckpointStore {
  /** Commit everything the changelog holds now. */
  drain(options?: DrainOptions): Promise<void>
  /**
   * Stop the background drains, then drain once more. The store and the log stay open: they are yours.
   * `signal` stops that last drain between two pages (`AbortedError`): what was committed stays
   * committed, the rest stays in the store's changelog for the next committer.
   */
  close(options?: AbortOptions): Promise<void>
  /** Counters so far. */
  metrics(): ChangelogCommitterMetrics
}

/**
 * Create a committer and start its background drains (a timer that does not keep the process
 * alive). Resuming needs nothing else: the position comes from the log's marks.
 * @throws InvalidDefinitionError when the store has no changelog.
 */
export function changelogCommitter(options: ChangelogCommitterOptions): ChangelogCommitter {
  const { store, log } = options
  if (!store?.capabilities?.changelog || !store.readChangelog || !store.trimChangelog) {
    throw new InvalidDefinitionError(
      `online-sink changelogCommitter: online store '${store?.name}' has no changelog; create it with \`changelog: true\` (a store that cannot keep one cannot give effectively-once checkpoints)`,
    )
  }
  if (typeof log?.appendMarked !== 'function' || typeof log.readMarks !== 'function') {
    throw new InvalidDefinitionError(
      'online-sink changelogCommitter: `log` must be an offline log (appendMarked/readMarks)',
    )
  }
  const readChangelog = store.readChangelog.bind(store)
  const trimChangelog = store.trimChangelog.bind(store)
  const changelogHead = store.changelogHead?.bind(store)
  const interval = durationOption(
    'changelogCommitter',
    'interval',
    options.interval,
    'intervalMs',
    options.intervalMs,
  )
  const intervalMs = checkNumber('changelogCommitter', interval.name, interval.ms ?? 1000, {
    min: 0,
    max: 2 ** 31 - 1,
    ms: true,
  })
  const pageSize = checkNumber('changelogCommitter', 'pageSize', options.pageSize ?? 10_000, {
    min: 1,
    integer: true,
  })
  const maxPerCommit = checkNumber(
    'changelogCommitter',
    'maxWritesPerCommit',
    options.maxWritesPerCommit ?? 200_000,
    { min: 1, integer: true },
  )
  const m: Omit<
    ChangelogCommitterMetrics,
    'logDeadLetters' | 'logDeadLettersByReason' | 'logDeadLettersByCode'
  > = {
    commits: 0,
    writes: 0,
    checkpoints: 0,
    failures: 0,
    position: undefined,
    lastCheckpointMs: 0,
  }
  // undefined until read from the log's marks; re-read after a failed commit (it may have landed).
  let known = false
  let closed = false
  // Every drain runs after the previous one: positions advance in one order.
  let queue: Promise<unknown> = Promise.resolve()
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = queue.then(fn)
    queue = p.catch(() => undefined)
    return p
  }

  async function position(): Promise<SourcePosition | undefined> {
    if (!known) {
      m.position = (await log.readMarks()).changelog
      known = true
    }
    return m.position
  }

  /**
   * Move the changelog into the log up to its head when the drain starts; the last commit carries
   * `checkpoint`. Every write a checkpoint covers is before that head (the pipeline flushed its sinks
   * first), and chasing the writes that go on meanwhile would make a drain last as long as the
   * writer keeps up with the reader (the next drain takes them).
   */
  async function drainOnce(checkpoint: CommittedCheckpoint | undefined, signal?: AbortSignal) {
    const upTo = changelogHead !== undefined ? await changelogHead() : undefined
    const readOptions = upTo === undefined ? { limit: pageSize } : { limit: pageSize, upTo }
    let pos = await position()
    let pending: FeatureWrite[] = []
    let pendingPos = pos
    for (;;) {
      if (signal?.aborted) throw new AbortedError('online-sink: changelog drain', { cause: signal.reason })
      const page = await readChangelog(pos, readOptions)
      for (let i = 0; i < page.writes.length; i++) pending.push(page.writes[i] as FeatureWrite)
      if (page.position !== undefined) pendingPos = page.position
      pos = pendingPos
      const end = page.end || page.writes.length === 0
      if (!end && pending.length < maxPerCommit) continue
      const marks: CommitMarks = {}
      if (pendingPos !== undefined) marks.changelog = pendingPos
      if (end && checkpoint !== undefined) marks.checkpoint = checkpoint
      if (pending.length > 0 || marks.checkpoint !== undefined) {
        try {
          await log.appendMarked(pending, { marks })
        } catch (err) {
          // The commit may have landed before the failure: learn the position from the log again.
          known = false
          throw err
        }
        m.commits++
        m.writes += pending.length
        m.position = pendingPos
        if (pendingPos !== undefined) {
          // Best effort: a failed trim only leaves more to skip; the next one covers it.
          await trimChangelog(pendingPos).catch((err: unknown) => options.onError?.(err))
        }
      }
      pending = []
      if (end) return
    }
  }

  // A background drain slower than the interval must not queue more behind it (a checkpoint would
  // wait for all of them): a tick is skipped while the previous drain runs.
  let draining = false
  const timer =
    intervalMs > 0
      ? setInterval(() => {
          if (draining) return
          draining = true
          serial(() => drainOnce(undefined))
            .catch((err: unknown) => {
              m.failures++
              options.onError?.(err)
            })
            .finally(() => {
              draining = false
            })
        }, intervalMs)
      : undefined
  timer?.unref?.()

  return {
    commitCheckpoint(checkpoint) {
      if (closed) return Promise.reject(new AbortedError('online-sink: changelogCommitter is closed'))
      return serial(async () => {
        const start = performance.now()
        await drainOnce(checkpoint)
        m.checkpoints++
        m.lastCheckpointMs = performance.now() - start
      })
    },
    async latestCheckpoint() {
      return (await log.readMarks()).checkpoint
    },
    drain(opts = {}) {
      return serial(() => drainOnce(undefined, opts.signal))
    },
    async close(call) {
      if (closed) return queue.then(() => undefined)
      closed = true
      if (timer !== undefined) clearInterval(timer)
      await serial(() => drainOnce(undefined, call?.signal))
    },
    metrics: () => ({ ...m, ...logDeadLettersOf(log) }),
  }
}

/** What the log rejected, from its `metrics()` when it has one (a pipeline sums it into its own). */
function logDeadLettersOf(log: unknown): {
  logDeadLetters: number
  logDeadLettersByReason: Record<string, number>
  logDeadLettersByCode: Record<string, number>
} {
  const read = (log as { metrics?: () => unknown }).metrics
  const got = typeof read === 'function' ? (read.call(log) as Record<string, unknown> | undefined) : undefined
  const n = got?.deadLetters
  const byCode = got?.deadLettersByReason ?? got?.deadLettersByCode
  return {
    logDeadLetters: typeof n === 'number' ? n : 0,
    logDeadLettersByReason:
      typeof byCode === 'object' && byCode !== null ? { ...(byCode as Record<string, number>) } : {},
    logDeadLettersByCode:
      typeof byCode === 'object' && byCode !== null ? { ...(byCode as Record<string, number>) } : {},
  }
}
