import { readFile } from 'node:fs'
import { readFile as readPath } from 'node:fs/promises'
import { dirname } from 'node:path'
import { throwIfAborted } from '@skewless/core/internal'
import type { FeatureTypes, ScanOptions } from '@skewless/offline-log'
import { dropDuplicateIdentities, filterBatch, resolveScan } from '@skewless/offline-log/adapter'
import type { RecordBatch } from 'apache-arrow'
import type { EncodePool } from './encode-pool.js'
import {
  CorruptFileError,
  type ForeignFileError,
  type MissingFileError,
  UnstableListingError,
} from './errors.js'
import type { Damage, PartitionVerifier } from './manifest-check.js'
import { decodeSegment, ipcToSegmentBatches } from './read-segment.js'
import {
  closeFd,
  closeSegments,
  listPartition,
  listPartitionsOf,
  MAX_PINNED,
  type PartitionDir,
  type SegmentFile,
} from './segment-files.js'
import type { ParquetLogOptions, ParquetLogStats } from './types.js'

/** What a scan of a Parquet log needs. */
export interface ScanContext {
  root: string
  featureTypes: Readonly<FeatureTypes>
  pool: EncodePool | undefined
  workers: number
  onCorrupt: NonNullable<ParquetLogOptions['onCorruptFile']>
  stats: ParquetLogStats
  /** Compares each partition listing with the manifest; unset for a log without one (opened read-only). */
  verifier: PartitionVerifier | undefined
}

/** Report a damaged file as `onCorruptFile` says: throw it, or count it (and call back) and read around it. */
export function reportDamaged(
  ctx: ScanContext,
  e: CorruptFileError | MissingFileError | ForeignFileError,
): void {
  if (ctx.onCorrupt === 'throw') throw e
  ctx.stats.corruptFilesSkipped++
  if (typeof ctx.onCorrupt === 'function') ctx.onCorrupt(e)
}

type Loaded = RecordBatch[] | CorruptFileError

function readFd(fd: number): Promise<Buffer> {
  return new Promise((resolve, reject) => readFile(fd, (e, b) => (e ? reject(e) : resolve(b))))
}

/** Read and decode one file (through its pinned descriptor when it has one, which is then closed). */
async function load(ctx: ScanContext, seg: SegmentFile): Promise<Loaded> {
  ctx.stats.filesRead++
  const fd = seg.fd
  seg.fd = undefined // from here on, this load owns (and closes) it
  try {
    if (ctx.pool) {
      const r = await ctx.pool.decode(seg.path, fd)
      if (r.corrupt !== undefined) return new CorruptFileError(seg.path, r.corrupt)
      return ipcToSegmentBatches(seg.path, r.ipc as Uint8Array, seg.feature)
    }
    const bytes = fd !== undefined ? await readFd(fd) : await readPath(seg.path)
    return decodeSegment(seg.path, bytes, seg.feature)
  } catch (e) {
    if (e instanceof CorruptFileError) return e
    if (seg.unpinned && (e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UnstableListingError(
        dirname(seg.path),
        `${seg.path} was listed, not yet pinned (more than ${MAX_PINNED} files), and deleted by a compaction before it was read`,
        { cause: e },
      )
    }
    throw e
  } finally {
    if (fd !== undefined) await closeFd(fd)
  }
}

/**
 * Scan the committed files partition by partition: list each partition as one consistent view with
 * its files pinned open (`listPartition`, safe while a compaction swaps files), prune, read and
 * decode ahead (with workers, up to `workers + 1` files in parallel off this thread, across partition
 * boundaries; without, file i+1 is read while file i decodes), and filter each file's batches.
 * Batches come out one or more per file, in file order, each sorted. A partition is listed only when
 * the read-ahead reaches it, so open handles stay bounded by about one partition's files.
 */
export async function* scanSegments(
  ctx: ScanContext,
  o: ScanOptions,
  what: string,
  /** Absolute paths of live files to leave out (covered by a state checkpoint; see state-checkpoint.ts). */
  exclude?: ReadonlySet<string>,
): AsyncGenerator<RecordBatch> {
  const s = resolveScan(o, ctx.featureTypes, what)
  const signal = o.signal
  const where = `offline-parquet ${what}`
  throwIfAborted(signal, where)
  const parts: PartitionDir[] = []
  for (const feature of s.features) parts.push(...(await listPartitionsOf(ctx.root, feature, s)))
  const ahead = ctx.pool ? ctx.workers + 1 : 1
  const verify = ctx.verifier && {
    verifier: ctx.verifier,
    report: (d: Damage) => {
      for (const e of d.errors) reportDamaged(ctx, e)
    },
  }
  const queue: { seg: SegmentFile; loaded: Promise<Loaded> }[] = []
  let pinned: SegmentFile[] = []
  let pi = 0
  let ci = 0
  const fill = async () => {
    while (queue.length < ahead) {
      if (ci < pinned.length) {
        const seg = pinned[ci++] as SegmentFile
        const loaded = load(ctx, seg)
        loaded.catch(() => undefined) // surfaced when awaited below
        queue.push({ seg, loaded })
        continue
      }
      if (pi >= parts.length) return
      pinned = await listPartition(parts[pi++] as PartitionDir, s, true, verify, exclude)
      ci = 0
    }
  }
  try {
    throwIfAborted(signal, where)
    await fill()
    while (queue.length > 0) {
      // Between two files: an abort leaves the loop, and `finally` releases the pinned handles.
      throwIfAborted(signal, where)
      const { seg, loaded: p } = queue.shift() as (typeof queue)[number]
      const loaded = await p
      await fill()
      if (loaded instanceof CorruptFileError) {
        reportDamaged(ctx, loaded)
        continue
      }
      // A file whose name bounds lie inside [from, to) needs no per-row time test.
      const b = seg.bounds
      const lo = b ? (s.by === 'event' ? b.minEventTime : b.minAvailableTime) : Number.NEGATIVE_INFINITY
      const hi = b ? (s.by === 'event' ? b.maxEventTime : b.maxAvailableTime) : Number.POSITIVE_INFINITY
      const fs =
        lo >= s.from && hi < s.to ? { ...s, from: Number.NEGATIVE_INFINITY, to: Number.POSITIVE_INFINITY } : s
      for (const batch of loaded) {
        const kept = filterBatch(batch, fs, false)
        // A write logged twice in one file (a compaction merged a replayed copy) counts once.
        if (kept) yield dropDuplicateIdentities(kept)
      }
    }
  } finally {
    // Stopped early or failed: let in-flight reads finish (they close their handles), close the rest.
    await Promise.allSettled(queue.map((q) => q.loaded))
    await closeSegments(pinned.slice(ci))
  }
}
