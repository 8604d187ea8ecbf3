import { readFile } from 'node:fs/promises'
import { type FeatureTypes, filterBatch, resolveScan, type ScanOptions } from '@skewless/offline-log'
import type { RecordBatch } from 'apache-arrow'
import type { EncodePool } from './encode-pool.js'
import { CorruptFileError } from './errors.js'
import { decodeSegment, ipcToSegmentBatches } from './read-segment.js'
import { listSegments, type SegmentFile } from './segments.js'
import type { ParquetLogOptions, ParquetLogStats } from './types.js'

/** What a scan of a Parquet log needs. */
export interface ScanContext {
  root: string
  featureTypes: Readonly<FeatureTypes>
  pool: EncodePool | undefined
  workers: number
  onCorrupt: NonNullable<ParquetLogOptions['onCorruptFile']>
  stats: ParquetLogStats
}

type Loaded = RecordBatch[] | CorruptFileError

async function load(ctx: ScanContext, seg: SegmentFile): Promise<Loaded> {
  try {
    if (ctx.pool) {
      const r = await ctx.pool.decode(seg.path)
      if (r.corrupt !== undefined) return new CorruptFileError(seg.path, r.corrupt)
      return ipcToSegmentBatches(seg.path, r.ipc as Uint8Array, seg.feature)
    }
    return decodeSegment(seg.path, await readFile(seg.path), seg.feature)
  } catch (e) {
    if (e instanceof CorruptFileError) return e
    throw e
  }
}

/**
 * Scan the committed files: list and prune them, read and decode them ahead (with workers, up to
 * `workers + 1` files in parallel off this thread; without, file i+1 is read while file i decodes),
 * and filter each file's batches. Batches come out one or more per file, in file order, each sorted.
 */
export async function* scanSegments(
  ctx: ScanContext,
  o: ScanOptions,
  what: string,
): AsyncGenerator<RecordBatch> {
  const s = resolveScan(o, ctx.featureTypes, what)
  const segs: SegmentFile[] = []
  for (const feature of s.features) segs.push(...(await listSegments(ctx.root, feature, s)))
  const ahead = ctx.pool ? ctx.workers + 1 : 1
  const queue: Promise<Loaded>[] = []
  let next = 0
  const fill = () => {
    while (queue.length < ahead && next < segs.length) {
      const p = load(ctx, segs[next++] as SegmentFile)
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
      if (ctx.onCorrupt === 'throw') throw loaded
      ctx.stats.corruptFilesSkipped++
      if (typeof ctx.onCorrupt === 'function') ctx.onCorrupt(loaded)
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
      if (kept) yield kept
    }
  }
}
