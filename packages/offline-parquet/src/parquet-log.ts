import { mkdir, readFile } from 'node:fs/promises'
import { ClosedError, type FeatureWrite, InvalidArgumentError, InvalidDefinitionError } from '@skewless/core'
import {
  checkInstant,
  checkRecord,
  filterBatch,
  InvalidRecordError,
  normalizeFeatureTypes,
  type RejectedWrite,
  recordBatchToWrites,
  resolveScan,
  type ScanOptions,
  type StateAtOptions,
  stateAtFromBatches,
} from '@skewless/offline-log'
import type { RecordBatch } from 'apache-arrow'
import { EncodePool } from './encode-pool.js'
import { CorruptFileError } from './errors.js'
import { checkFeatureName, newWriterId } from './layout.js'
import { decodeSegment, ipcToSegmentBatches } from './read-segment.js'
import { recover } from './recovery.js'
import { Scratch } from './scratch.js'
import { commitRecords, type SegmentWriter } from './segment-writer.js'
import { listSegments, type SegmentFile } from './segments.js'
import type { ParquetLog, ParquetLogOptions, ParquetLogStats } from './types.js'

interface Pending {
  records: readonly FeatureWrite[]
  resolve: () => void
  reject: (e: unknown) => void
}

function positive(name: string, v: number | undefined, def: number, min = 1): number {
  if (v === undefined) return def
  if (!Number.isFinite(v) || v < min) {
    throw new InvalidDefinitionError(`offline-parquet: ${name} must be a number >= ${min}, got ${String(v)}`)
  }
  return Math.floor(v)
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
  const rollRows = positive('rollRows', options.rollRows, 1_000_000)
  const rollAgeMs = positive('rollAgeMs', options.rollAgeMs, 0, 0)
  const workers = positive('workers', options.workers, 2, 0)
  const maxCommitRows = positive('maxCommitRows', options.maxCommitRows, 500_000)
  const maxPendingRows = positive('maxPendingRows', options.maxPendingRows, 1_000_000)
  const onCorrupt = options.onCorruptFile ?? 'throw'
  const readOnly = options.readOnly ?? false
  const deadLetters = options.deadLetters
  const root = options.dir

  if (!readOnly) await mkdir(root, { recursive: true })
  const recovery = await recover(root, readOnly)
  const writer: SegmentWriter = {
    root,
    writerId: newWriterId(),
    seq: 0,
    encoder,
    compression,
    rollRows,
    featureTypes,
    knownDirs: new Set(),
    scratch: new Scratch(),
    pool: workers > 0 ? new EncodePool(workers) : undefined,
  }
  const stats: ParquetLogStats = { commits: 0, files: 0, rows: 0, bytes: 0, corruptFilesSkipped: 0 }

  const queue: Pending[] = []
  let queuedRows = 0
  let running: Promise<void> | undefined
  let inflight: Promise<void> = Promise.resolve()
  let lastDone: Promise<void> = Promise.resolve()
  let failure: unknown
  let closed = false

  function check(r: FeatureWrite): RejectedWrite | undefined {
    const bad = checkRecord(r, featureTypes)
    if (bad || encoder !== 'parquetjs-lite') return bad
    if (r.eventTime < 0 || r.availableTime < 0 || (r.tileStart !== undefined && r.tileStart < 0)) {
      return {
        record: r,
        code: 'invalid-time',
        reason: 'the parquetjs-lite encoder cannot store times before 1970',
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

  async function loop(): Promise<void> {
    await new Promise<void>((r) => setImmediate(r)) // let synchronous appends of this tick join
    // Up to two commits overlap: while the workers encode and fsync commit N, this thread prepares
    // commit N+1. A commit starts preparing only after the previous one posted all its files (they
    // share scratch buffers). Appends of different commits may therefore resolve out of order.
    const open: Promise<void>[] = []
    while (queue.length > 0) {
      if (rollAgeMs > 0 && queuedRows < rollRows) await new Promise((r) => setTimeout(r, rollAgeMs))
      // Take whole appends (an append is never split across commits) up to maxCommitRows.
      let take = 0
      let rows = 0
      while (
        take < queue.length &&
        (take === 0 || rows + (queue[take] as Pending).records.length <= maxCommitRows)
      ) {
        rows += (queue[take] as Pending).records.length
        take++
      }
      const group = queue.splice(0, take)
      queuedRows -= rows
      const records: FeatureWrite[] = group.length === 1 ? (group[0]?.records as FeatureWrite[]) : []
      if (group.length > 1)
        for (const p of group)
          for (let i = 0; i < p.records.length; i++) records.push(p.records[i] as FeatureWrite)
      let settle!: () => void
      inflight = new Promise<void>((r) => {
        settle = r
      })
      let posted!: () => void
      const postedP = new Promise<void>((r) => {
        posted = r
      })
      const commit = commitRecords(writer, records, posted).then(
        (res) => {
          stats.commits++
          stats.files += res.files
          stats.rows += rows
          stats.bytes += res.bytes
          for (const p of group) p.resolve()
        },
        (e) => {
          for (const p of group) p.reject(e)
        },
      )
      const tracked = commit.finally(() => {
        settle()
        open.splice(open.indexOf(tracked), 1)
      })
      open.push(tracked)
      await Promise.race([postedP, commit])
      if (open.length >= 2) await Promise.race(open)
    }
    await Promise.all(open)
    running = undefined
    if (queue.length > 0) running = loop()
    // Idle: release the commit buffers (tens of MB for a large commit) until the next burst.
    else writer.scratch.clear()
  }

  function enqueue(records: readonly FeatureWrite[]): Promise<void> {
    const p = new Promise<void>((resolve, reject) => {
      queue.push({ records, resolve, reject })
    })
    queuedRows += records.length
    if (!running) running = loop()
    lastDone = p.then(
      () => undefined,
      () => undefined,
    )
    return p
  }

  async function append(batch: readonly FeatureWrite[]): Promise<void> {
    if (closed) throw new ClosedError('parquetLog')
    if (readOnly) throw new InvalidArgumentError('offline-parquet: this log was opened with readOnly: true')
    const { good, dead } = accept(batch)
    if (dead) await dead
    if (good.length === 0) return
    return enqueue(good)
  }

  function write(batch: readonly FeatureWrite[]): void | Promise<void> {
    if (closed) throw new ClosedError('parquetLog')
    if (failure) throw failure
    if (readOnly) throw new InvalidArgumentError('offline-parquet: this log was opened with readOnly: true')
    const { good, dead } = accept(batch)
    const go = () => {
      if (good.length === 0) return
      // The Sink contract lets us keep the caller's array only until write returns: copy it.
      enqueue(good.slice()).catch((e) => {
        failure ??= e
      })
      if (queuedRows > maxPendingRows) return inflight
      return undefined
    }
    if (dead) return dead.then(go)
    return go()
  }

  async function flush(): Promise<void> {
    await lastDone
    if (running) await running
    if (failure) throw failure
  }

  async function* scanFiles(o: ScanOptions, what: string): AsyncGenerator<RecordBatch> {
    const s = resolveScan(o, featureTypes, what)
    const segs: SegmentFile[] = []
    for (const feature of s.features) segs.push(...(await listSegments(root, feature, s)))
    // With workers, up to `workers + 1` files are read and decoded ahead, in parallel, off this
    // thread; without, file i+1 is read while file i decodes here.
    const pool = writer.pool
    const ahead = pool ? workers + 1 : 1
    type Loaded = RecordBatch[] | CorruptFileError
    const load = async (seg: SegmentFile): Promise<Loaded> => {
      try {
        if (pool) {
          const r = await pool.decode(seg.path)
          if (r.corrupt !== undefined) return new CorruptFileError(seg.path, r.corrupt)
          return ipcToSegmentBatches(seg.path, r.ipc as Uint8Array, seg.feature)
        }
        return decodeSegment(seg.path, await readFile(seg.path), seg.feature)
      } catch (e) {
        if (e instanceof CorruptFileError) return e
        throw e
      }
    }
    const queue: Promise<Loaded>[] = []
    let nextToLoad = 0
    const fill = () => {
      while (queue.length < ahead && nextToLoad < segs.length) {
        const p = load(segs[nextToLoad++] as SegmentFile)
        p.catch(() => undefined) // surfaced when awaited below
        queue.push(p)
      }
    }
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i] as SegmentFile
      fill()
      const loaded = await (queue.shift() as Promise<Loaded>)
      fill()
      if (loaded instanceof CorruptFileError) {
        if (onCorrupt === 'throw') throw loaded
        stats.corruptFilesSkipped++
        if (typeof onCorrupt === 'function') onCorrupt(loaded)
        continue
      }
      const batches = loaded
      // A file whose name bounds lie inside [from, to) needs no per-row time test.
      const b = seg.bounds
      const lo = b ? (s.by === 'event' ? b.minEventTime : b.minAvailableTime) : Number.NEGATIVE_INFINITY
      const hi = b ? (s.by === 'event' ? b.maxEventTime : b.maxAvailableTime) : Number.POSITIVE_INFINITY
      const inside = lo >= s.from && hi < s.to
      const fs = inside ? { ...s, from: Number.NEGATIVE_INFINITY, to: Number.POSITIVE_INFINITY } : s
      for (const batch of batches) {
        const kept = filterBatch(batch, fs, false)
        if (kept) yield kept
      }
    }
  }

  const log: ParquetLog = {
    capabilities: Object.freeze({ durable: true, sortedSegments: true }),
    featureTypes,
    dir: root,
    recovery,
    stats,
    append,
    write,
    flush,
    scan: (o) => scanFiles(o, 'scan'),
    async *scanRows(o) {
      for await (const b of scanFiles(o, 'scanRows')) yield recordBatchToWrites(b)
    },
    async stateAt(t: number, o: StateAtOptions) {
      checkInstant(t)
      const by = o?.by ?? 'available'
      resolveScan({ ...o, by }, featureTypes, 'stateAt')
      const to = Math.floor(t) + 1
      return stateAtFromBatches(
        scanFiles({ features: o.features, entities: o.entities, by, to }, 'stateAt'),
        t,
        by,
      )
    },
    async listFiles(features = Object.keys(featureTypes)) {
      const out: string[] = []
      const all = { by: 'event' as const, from: Number.NEGATIVE_INFINITY, to: Number.POSITIVE_INFINITY }
      for (const f of features) for (const s of await listSegments(root, f, all)) out.push(s.path)
      return out
    },
    async close() {
      if (closed) return
      try {
        await flush()
      } finally {
        closed = true
        await writer.pool?.close()
      }
    },
  }
  return log
}
