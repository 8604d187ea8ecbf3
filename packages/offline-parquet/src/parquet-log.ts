import { mkdir } from 'node:fs/promises'
import {
  type AbortOptions,
  ClosedError,
  type CommitMarks,
  type FeatureWrite,
  InvalidArgumentError,
  InvalidDefinitionError,
  type MarkedAppendOptions,
  SkewlessError,
} from '@skewless/core'
import { countDeadLetters } from '@skewless/core/adapter'
import { durationOption, numberOption, raceAbort } from '@skewless/core/internal'
import {
  InvalidRecordError,
  type RejectedWrite,
  recordBatchToWrites,
  type ScanOptions,
  type StateAtOptions,
} from '@skewless/offline-log'
import {
  checkInstant,
  checkRecord,
  isParquetCompression,
  MarksGuard,
  normalizeFeatureTypes,
  PARQUET_CODECS,
  resolveScan,
  stateAtFromBatches,
} from '@skewless/offline-log/adapter'
import { Scratch } from './commit-buffers.js'
import { CommitQueue } from './commit-queue.js'
import { compactLog } from './compaction.js'
import { EncodePool } from './encode-pool.js'
import { LogUnwritableError, ReadOnlyLogError } from './errors.js'
import { checkFeatureName, END_EVENT_TIME, MIN_EVENT_TIME, newWriterId } from './layout.js'
import { type Manifest, SNAPSHOT_EVERY } from './manifest.js'
import { manifestVerifier } from './manifest-check.js'
import { copyOutMarks, markTexts } from './marks-text.js'
import {
  definitionsOf,
  loadManifest,
  prepareManifest,
  readerMarks,
  reconcileDefinitions,
  rollForward,
} from './open-manifest.js'
import { recover } from './recovery.js'
import { listPartition, listPartitionsOf } from './segment-files.js'
import { scanSegments } from './segment-scan.js'
import type { SegmentWriter } from './segment-writer.js'
import { checkpointState, type StateEnv, stateAtWithCheckpoints } from './state-checkpoint.js'
import { parquetTelemetry } from './telemetry.js'
import type {
  CompactionReport,
  LogDescription,
  ParquetLog,
  ParquetLogOptions,
  ParquetLogStats,
} from './types.js'
import { acquireWriterLock, DEFAULT_LOCK_LEASE_MS } from './writer-lock.js'

/** `String.prototype.isWellFormed` (Node >= 20; not in the ES2023 lib typings). */
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed()

/** System errors that mean "this path cannot be written here": wrapped in `LogUnwritableError`. */
const UNWRITABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'ENOSPC', 'EDQUOT', 'EEXIST', 'EISDIR'])

/** Run a step of a writable open; a raw "cannot write here" system error becomes `LogUnwritableError`. */
async function writableStep<T>(dir: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step()
  } catch (e) {
    const code = (e as NodeJS.ErrnoException)?.code
    if (!(e instanceof SkewlessError) && typeof code === 'string' && UNWRITABLE.has(code)) {
      throw new LogUnwritableError(dir, code, { cause: e })
    }
    throw e
  }
}

/** A count option: a whole number >= `min` (core's one option check; 2.5 workers was rounded down silently). */
function count(name: string, v: number | undefined, def: number, min = 1): number {
  return numberOption('offline-parquet', name, v, def, { min, integer: true })
}

/**
 * Open (or create) a Parquet offline log in `options.dir`. Async because opening recovers from a
 * previous crash first (see `recovery`). Layout: `dir/feature=<name>/date=YYYY-MM-DD/part-….parquet`.
 *
 * - `append(batch)` resolves once the batch is in committed files (written, fsynced, renamed, directory
 *   fsynced). Appends that arrive while a commit runs share the next commit (group commit).
 * - `write(batch)` (the `Sink` side, for pipelines) only enqueues: it returns nothing while fewer than
 *   `maxPendingRows` rows wait, so encoding never stalls the pipeline; past that it returns a promise
 *   (backpressure). A failed background commit makes the next `write`/`flush` throw. `flush()`
 *   resolves when everything written so far is durable.
 * - `scan` reads committed files only, one or more sorted batches per file.
 */
export async function parquetLog(options: ParquetLogOptions): Promise<ParquetLog> {
  if (!options || typeof options.dir !== 'string' || options.dir.length === 0) {
    throw new InvalidDefinitionError('offline-parquet: options.dir must be the path of the log directory')
  }
  const featureTypes = normalizeFeatureTypes(options.features)
  for (const f of Object.keys(featureTypes)) checkFeatureName(f)
  const encoder = options.encoder ?? 'parquet-wasm'
  if (encoder !== 'parquet-wasm' && encoder !== 'parquetjs-lite') {
    throw new InvalidDefinitionError(`offline-parquet: encoder must be 'parquet-wasm' or 'parquetjs-lite'`)
  }
  const compression = options.compression ?? 'snappy'
  if (!isParquetCompression(compression)) {
    throw new InvalidDefinitionError(
      `offline-parquet: compression must be one of ${Object.keys(PARQUET_CODECS)
        .map((c) => `'${c}'`)
        .join(', ')}`,
    )
  }
  const rollRows = count('rollRows', options.rollRows, 1_000_000)
  const rollAge = durationOption(
    'offline-parquet',
    'rollAge',
    options.rollAge,
    'rollAgeMs',
    options.rollAgeMs,
  )
  const rollAgeMs = numberOption('offline-parquet', rollAge.name, rollAge.ms, 0, {
    min: 0,
    ms: true,
  })
  const workers = count('workers', options.workers, 2, 0)
  const maxCommitRows = count('maxCommitRows', options.maxCommitRows, 500_000)
  const maxPendingRows = count('maxPendingRows', options.maxPendingRows, 1_000_000)
  // Not rounded: tests use short leases.
  const lockLease = durationOption(
    'offline-parquet',
    'lockLease',
    options.lockLease,
    'lockLeaseMs',
    options.lockLeaseMs,
  )
  const lockLeaseMs = numberOption('offline-parquet', lockLease.name, lockLease.ms, DEFAULT_LOCK_LEASE_MS, {
    min: 0,
    aboveMin: true,
    ms: true,
  })
  const onCorrupt = options.onCorruptFile ?? 'throw'
  const readOnly = options.readOnly ?? false
  // Counted on the way to the output: metrics() reports them, and the pipeline sums them up.
  const dead = countDeadLetters(options.deadLetters)
  const deadLetters = dead.sink
  const root = options.dir

  const snapshotEvery = count('manifestSnapshotEvery', options.manifestSnapshotEvery, SNAPSHOT_EVERY)
  const acceptLost = new Set(options.acceptLostFiles ?? [])
  const definitions = definitionsOf(options.features)

  if (!readOnly) await writableStep(root, () => mkdir(root, { recursive: true, mode: 0o755 })) // DIR_MODE of file-io.ts
  // Recovery deletes temp files and replays journals: only safe when no other writer is live.
  const lock = readOnly
    ? undefined
    : await writableStep(root, () => acquireWriterLock(root, { leaseMs: lockLeaseMs }))
  let recovered: Awaited<ReturnType<typeof recover>>
  let manifest: Manifest
  try {
    const opened = await writableStep(root, async () => {
      // The manifest's last version is rolled forward after the (legacy) journals and before recovery
      // deletes the temp files no commit point refers to.
      const m = await loadManifest(root, '', readOnly, snapshotEvery)
      let forward: Awaited<ReturnType<typeof rollForward>> = { renamed: 0, lost: [] }
      const r = await recover(root, readOnly, acceptLost, async () => {
        if (!readOnly && m.version >= 0) forward = await rollForward(m, acceptLost)
      })
      r.report.replayedCommits += forward.renamed > 0 ? 1 : 0
      m.writer = newWriterId(r.lastWriterId)
      if (readOnly) {
        if (m.version >= 0) reconcileDefinitions(m.features, definitions)
      } else await prepareManifest(m, { definitions, acceptLost }, forward.lost)
      return { m, r }
    })
    recovered = opened.r
    manifest = opened.m
  } catch (e) {
    await lock?.release()
    throw e
  }
  const recovery = recovered.report
  if (lock) recovery.tempFiles.push(...lock.leftoversRemoved)
  const stats: ParquetLogStats = {
    commits: 0,
    files: 0,
    rows: 0,
    bytes: 0,
    corruptFilesSkipped: 0,
    compactions: 0,
    manifestSnapshotFailures: 0,
    filesRead: 0,
  }
  const writer: SegmentWriter = {
    root,
    writerId: manifest.writer,
    seq: 0,
    encoder,
    compression,
    rollRows,
    featureTypes,
    scratch: new Scratch(),
    pool: workers > 0 ? new EncodePool(workers) : undefined,
    unsettled: new Set(),
    manifest,
    onSnapshotFailed: () => {
      stats.manifestSnapshotFailures++
    },
    ...(lock ? { verifyLock: () => lock.verify() } : {}),
  }

  const guard = new MarksGuard()
  const telemetry = parquetTelemetry(options)
  const commits = new CommitQueue(writer, stats, { rollRows, rollAgeMs, maxCommitRows }, guard, telemetry)
  // A read-only open of a log without a manifest (written before manifests, never opened for writing
  // since) cannot tell committed from foreign files: it reads what the names say, as before.
  const verifier =
    manifest.version >= 0 ? manifestVerifier(root, manifest, () => readOnly || closed) : undefined
  const scanCtx = { root, featureTypes, pool: writer.pool, workers, onCorrupt, stats, verifier }
  let failure: unknown
  let closed = false
  /** Set when `close()` starts: from then on appends are refused, so `close()` drains a queue that no longer grows. */
  let closing = false
  /** The running (or last) compaction: compactions run one at a time, `close()` waits for it. */
  let compacting: Promise<unknown> = Promise.resolve()

  /**
   * `checkRecord`, plus what this layout cannot store: such a record would otherwise fail the whole
   * group commit (and the other appends in it) or be changed silently.
   */
  function check(r: FeatureWrite): RejectedWrite | undefined {
    const bad = checkRecord(r, featureTypes)
    if (bad) return bad
    if (r.eventTime < MIN_EVENT_TIME || r.eventTime >= END_EVENT_TIME) {
      return {
        record: r,
        reason: 'invalid-time',
        message: `eventTime ${r.eventTime} is outside the UTC years 0000-9999 that a date=YYYY-MM-DD partition can name`,
        code: 'invalid-time',
      }
    }
    // Parquet UTF8 is UTF-8: a lone surrogate would be stored as U+FFFD, a different string.
    if (!isWellFormed(r.entity) || (typeof r.value === 'string' && !isWellFormed(r.value))) {
      return {
        record: r,
        reason: 'invalid-value',
        message: 'entity or string value contains a lone UTF-16 surrogate, which UTF-8 cannot store',
        code: 'invalid-value',
      }
    }
    if (encoder !== 'parquetjs-lite') return undefined
    if (r.eventTime < 0 || r.availableTime < 0 || (r.tileStart !== undefined && r.tileStart < 0)) {
      return {
        record: r,
        reason: 'invalid-time',
        message: 'the parquetjs-lite encoder cannot store times before 1970',
        code: 'invalid-time',
      }
    }
    if (Number.isNaN(r.value)) {
      return {
        record: r,
        reason: 'invalid-value',
        message: 'the parquetjs-lite encoder cannot store NaN doubles',
        code: 'invalid-value',
      }
    }
    return undefined
  }

  /** Validate synchronously; bad records throw or go to dead letters (maybe a promise). */
  function accept(batch: readonly FeatureWrite[]): {
    good: readonly FeatureWrite[]
    dead?: void | Promise<void>
  } {
    if (!Array.isArray(batch))
      throw new InvalidArgumentError('offline-parquet append: batch must be an array')
    let rejected: RejectedWrite[] | undefined
    let good: FeatureWrite[] | undefined
    for (let i = 0; i < batch.length; i++) {
      const bad = check(batch[i] as FeatureWrite)
      if (bad === undefined) {
        good?.push(batch[i] as FeatureWrite)
        continue
      }
      if (rejected === undefined) {
        rejected = []
        good = batch.slice(0, i)
      }
      rejected.push(bad)
    }
    if (rejected === undefined) return { good: batch }
    if (!deadLetters) throw new InvalidRecordError(rejected[0] as RejectedWrite, rejected.length)
    return { good: good as FeatureWrite[], dead: deadLetters.write(rejected) }
  }

  /** A closed, read-only or lock-lost log refuses before anything is numbered or validated. */
  function refuse(what: string): void {
    if (closing) throw new ClosedError('parquetLog', 'offline-parquet')
    if (readOnly) throw new ReadOnlyLogError(what)
    if (lock?.lost) throw lock.lost
  }

  /**
   * Validate and enqueue in call order (so marks cover every batch appended before them), then wait
   * for the dead letters and the commit. Any failure is remembered by the marks guard.
   */
  async function append(batch: readonly FeatureWrite[]): Promise<void> {
    refuse('append')
    const n = guard.begin()
    try {
      const { good, dead } = accept(batch)
      // The commit reads the records later; a caller may reuse its array as soon as append returns.
      const mine = good === batch ? good.slice() : good
      const committed = mine.length > 0 ? commits.enqueue(mine, n) : undefined
      committed?.catch(() => undefined) // awaited below, after the dead letters
      if (dead) await dead
      await committed
    } catch (e) {
      guard.fail(n)
      throw e
    }
  }

  async function appendMarked(batch: readonly FeatureWrite[], options: MarkedAppendOptions): Promise<void> {
    refuse('appendMarked')
    if (!Array.isArray(batch)) {
      throw new InvalidArgumentError('offline-parquet appendMarked: batch must be an array')
    }
    const marks: CommitMarks = markTexts(options, 'offline-parquet')
    const ticket = guard.beginMarked()
    try {
      const { good, dead } = accept(batch)
      const committed = commits.enqueue(good === batch ? good.slice() : good, ticket.n, { marks, ticket })
      committed.catch(() => undefined)
      if (dead) await dead
      await committed
    } catch (e) {
      guard.fail(ticket.n)
      throw e
    }
  }

  /**
   * A background commit that failed is reported once, by the next `write` or `flush` (or `close`),
   * then forgotten: the caller knows, and later writes that commit make later flushes succeed.
   */
  function takeFailure(): unknown {
    const f = failure
    failure = undefined
    return f
  }

  function write(batch: readonly FeatureWrite[]): void | Promise<void> {
    if (closing) throw new ClosedError('parquetLog', 'offline-parquet')
    if (failure) throw takeFailure()
    refuse('write')
    const n = guard.begin()
    let accepted: ReturnType<typeof accept>
    try {
      accepted = accept(batch)
    } catch (e) {
      guard.fail(n)
      throw e
    }
    const { good, dead } = accepted
    if (good.length > 0) {
      // The Sink contract lets us keep the caller's array only until write returns: copy it.
      commits.enqueue(good.slice(), n).catch((e) => {
        failure ??= e
      })
    }
    const backpressure = commits.queuedRows > maxPendingRows ? commits.inflight : undefined
    if (dead) {
      return dead.then(
        () => backpressure,
        (e) => {
          guard.fail(n)
          throw e
        },
      )
    }
    return backpressure
  }

  async function flush(options?: AbortOptions): Promise<void> {
    // An abort stops the wait, not the commits: they go on, and a later flush or close waits for them.
    await raceAbort(commits.drained(), options?.signal, 'offline-parquet flush')
    if (failure) throw takeFailure()
  }

  /** The one close: once started it runs to its end, whoever stops waiting for it. */
  let closeRun: Promise<void> | undefined
  async function closeOnce(): Promise<void> {
    if (closed) return
    closing = true
    try {
      await compacting
      await flush()
    } finally {
      closed = true
      await writer.pool?.close()
      await lock?.release()
    }
  }

  const scanFiles = (o: ScanOptions, what: string) => scanSegments(scanCtx, o, what)
  const useCheckpoints = options.useStateCheckpoints ?? true
  const stateEnv: StateEnv = {
    root,
    manifest,
    featureTypes,
    readOnly,
    scan: (o, what, exclude) => scanSegments(scanCtx, o, what, exclude),
  }

  const log: ParquetLog = {
    capabilities: Object.freeze({ durable: true, sortedSegments: true }),
    featureTypes,
    dir: root,
    recovery,
    stats,
    metrics: () => ({ ...stats, ...dead.counts() }),
    append,
    appendMarked,
    async readMarks() {
      guard.resync()
      if (!readOnly || manifest.version < 0) return copyOutMarks(manifest.marks)
      await manifest.refresh()
      return copyOutMarks(await readerMarks(manifest))
    },
    async describe(): Promise<LogDescription> {
      if (readOnly && manifest.version >= 0) await manifest.refresh()
      const files = manifest.files()
      let rows: number | null = 0
      for (const f of files) rows = rows === null || f.rows === null ? null : rows + f.rows
      return {
        features: [...manifest.features.values()].map((d) => JSON.parse(JSON.stringify(d))),
        version: manifest.version,
        marks: copyOutMarks(manifest.marks),
        files: files.length,
        rows,
      }
    },
    write,
    flush,
    scan: (o) => scanFiles(o, 'scan'),
    async *scanRows(o) {
      for await (const b of scanFiles(o, 'scanRows')) yield recordBatchToWrites(b)
    },
    async stateAt(t: number, o: StateAtOptions) {
      checkInstant(t, o?.allowEarlyTimes === true)
      const by = o?.by ?? 'available'
      resolveScan({ ...o, by }, featureTypes, 'stateAt')
      if (useCheckpoints) return stateAtWithCheckpoints(stateEnv, t, o, by)
      const to = Math.floor(t) + 1
      const signal = o.signal
      return stateAtFromBatches(
        scanFiles(
          { features: o.features, entities: o.entities, by, to, ...(signal === undefined ? {} : { signal }) },
          'stateAt',
        ),
        t,
        by,
      )
    },
    async listFiles(features = Object.keys(featureTypes)) {
      // An undeclared name (a typo) is an error, as in scan, not an empty list read as "no data".
      resolveScan({ features }, featureTypes, 'listFiles')
      const out: string[] = []
      const all = { by: 'event' as const, from: Number.NEGATIVE_INFINITY, to: Number.POSITIVE_INFINITY }
      for (const f of features) {
        for (const p of await listPartitionsOf(root, f, all))
          for (const s of await listPartition(p, all, false)) out.push(s.path)
      }
      return out
    },
    async checkpointState(o) {
      if (closed || closing) throw new ClosedError('parquetLog', 'offline-parquet')
      if (readOnly) throw new ReadOnlyLogError('checkpointState')
      const features = o?.features ?? Object.keys(featureTypes)
      resolveScan({ features }, featureTypes, 'checkpointState')
      // Queued with compactions, so close() waits for it as it does for them.
      const run = compacting.then(() => checkpointState(stateEnv, features, () => stats.filesRead, o?.signal))
      compacting = run.catch(() => undefined)
      return run
    },
    compact(options) {
      if (closed || closing) return Promise.reject(new ClosedError('parquetLog', 'offline-parquet'))
      if (readOnly) return Promise.reject(new ReadOnlyLogError('compact'))
      if (lock?.lost) return Promise.reject(lock.lost)
      const run = compacting.then(() =>
        compactLog({ writer, featureTypes, verifier: verifier as NonNullable<typeof verifier> }, options),
      )
      compacting = run.catch(() => undefined)
      return run.then((r: CompactionReport) => {
        stats.compactions += r.partitions
        telemetry.compacted(r.partitions)
        return r
      })
    },
    close(options?: AbortOptions) {
      // An abort stops the wait and rejects with AbortedError; the close itself carries on (pending
      // commits land, the lock is released), so the log never ends half-closed.
      // The first call gets the close's failure, if any; later calls wait for the same close and resolve.
      const run = closeRun === undefined ? closeOnce() : closeRun
      closeRun = run.catch(() => undefined)
      return raceAbort(run, options?.signal, 'offline-parquet close')
    },
  }
  return log
}
