import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { CommitMarks, FeatureWrite } from '@skewless/core'
import { type FeatureTypes, MarksRefusedError } from '@skewless/offline-log'
import type { ParquetCompression } from '@skewless/offline-log/adapter'
import { Table, tableToIPC } from 'apache-arrow'
import { chunkBatch, type SortedColumns, scatterCommit } from './chunk-batch.js'
import type { Scratch } from './commit-buffers.js'
import { extractColumns } from './commit-columns.js'
import { crashPoint } from './crash-points.js'
import { writeParquetjs } from './encode-parquetjs.js'
import type { EncodePool } from './encode-pool.js'
import { encodeParquetWasm } from './encode-wasm.js'
import { CommitFailedError, LogLockedError } from './errors.js'
import { ensureDir, fsyncDir, fsyncFile, removeQuietly, rename, writeFileDurable } from './file-io.js'
import {
  type Cover,
  compactedName,
  partitionDir,
  type SegmentBounds,
  segmentName,
  TEMP_PREFIX,
  TEMP_SUFFIX,
} from './layout.js'
import type { Manifest } from './manifest.js'
import type { ManifestVersion } from './manifest-format.js'
import { partitionColumns } from './partition-chunks.js'
import type { ParquetEncoder } from './types.js'

/** Settings and state of the writer of one open log. */
export interface SegmentWriter {
  root: string
  writerId: string
  seq: number
  encoder: ParquetEncoder
  compression: ParquetCompression
  rollRows: number
  featureTypes: Readonly<FeatureTypes>
  scratch: Scratch
  /** Encoder workers; `undefined` encodes on the calling thread. */
  pool: EncodePool | undefined
  /** Throws `LogLockedError` when this writer no longer holds the directory's lock (`WriterLock.verify`). */
  verifyLock?: () => Promise<void>
  /**
   * First sequence number of every commit whose files may still appear: running, or failed after its
   * manifest version was written (the next commit or open rolls it forward). Compaction only replaces files below the
   * smallest of these (`settledBefore`), so no file ever appears inside a range it replaced.
   */
  unsettled: Set<number>
  /** The log's manifest: each commit writes its version (the commit point) before renaming its files. */
  manifest: Manifest
  /** Snapshots of the manifest that failed (the commit itself had succeeded; the next one retries). */
  onSnapshotFailed?: (e: unknown) => void
}

/** What a commit records besides its files, and how it reports to the queue. */
export interface CommitExtras {
  /** Marks recorded in this commit's manifest version. */
  marks?: CommitMarks
  /** Called when the commit's turn comes (every earlier commit settled), before its version is written: throw to refuse. */
  beforeVersion?: () => void
  /** Called on failure before the next commit may write; `committed`: its version was written (its files will appear). */
  onFailed?: (committed: boolean) => void
}

/** Every file of this writer with a smaller sequence number is final: renamed, or never to appear. */
export function settledBefore(w: SegmentWriter): number {
  let min = w.seq
  for (const s of w.unsettled) if (s < min) min = s
  return min
}

/** Commit records as the outputs of a compaction (one partition) instead of as a commit. */
export interface CompactionNaming {
  /** Id range of the files the outputs replace. */
  cover: Pick<Cover, 'lo' | 'hi'>
  /** Number of outputs (`ceil(rows / rollRows)`); the caller reserved that many sequence numbers. */
  parts: number
  /** Paths (relative to the root) of the inputs, removed by the same manifest version. */
  remove: string[]
}

/** Result of one commit. */
export interface CommitResult {
  files: number
  bytes: number
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Commit records as new files, atomically and durably:
 * 1. partition by (feature, day) and sort each partition;
 * 2. encode each file and write it under a temporary name, fsynced (writes and fsyncs of earlier
 *    files overlap the encoding of later ones);
 * 3. when every earlier commit has written its version (commits are recorded in call order), write
 *    the next manifest version listing the files (with their temp names), the marks and, for a
 *    compaction, the inputs it replaces: the commit point. A crash after it is rolled forward on the
 *    next open, so a commit (and its marks) is all-or-nothing;
 * 4. rename every temp file to its final name, fsync the directories.
 * Only then does the caller acknowledge the appends. On error every temp file is removed, unless the
 * version was written (the next commit, or the next open, then completes the renames).
 *
 * `onPosted` is called once step 2 has handed every file to the encoder: from then on the commit
 * only waits for workers and the disk, and no longer uses the shared scratch buffers, so the next
 * commit may start preparing (commits are pipelined).
 */
export async function commitRecords(
  w: SegmentWriter,
  records: readonly FeatureWrite[],
  onPosted?: () => void,
  compaction?: CompactionNaming,
  extras?: CommitExtras,
): Promise<CommitResult> {
  // The place in the order of commits is taken now, in call order.
  const ticket = compaction === undefined ? w.manifest.reserve() : undefined
  let unlock: (() => void) | undefined
  const firstSeq = w.seq
  // Only a commit is registered in (and removed from) `unsettled`. A compaction's outputs need no
  // entry (they are renamed before `compactLog` returns), and its first sequence number can equal
  // that of a commit that has not taken one yet (it is waiting in its first await): removing that
  // number would settle the commit early, and a later compaction could then replace an id range
  // that the commit's file lands in afterwards, hiding acknowledged rows.
  const registered = compaction === undefined
  if (registered) w.unsettled.add(firstSeq)
  let committed = false
  const done: {
    tmp: string
    final: string
    dir: string
    rows: number
    bytes: number
    bounds: SegmentBounds
  }[] = []
  let version: ManifestVersion | undefined
  let renamedCount = 0
  const io: Promise<void>[] = []
  const dirs = new Set<string>()
  let bytes = 0
  /** A write that fails while later files are still being prepared must not be an unhandled rejection (it would kill the process); `Promise.all(io)` reports it. */
  const track = (p: Promise<void>) => {
    p.catch(() => undefined)
    io.push(p)
  }
  try {
    // Inside the try: a failure while preparing (e.g. allocating the commit's buffers) must unregister
    // the commit and reject as a CommitFailedError like any other.
    const cols = extractColumns(records, w.featureTypes, w.scratch)
    const { order, chunks } = partitionColumns(cols, w.rollRows, w.scratch)
    const sorted = w.encoder === 'parquet-wasm' ? scatterCommit(cols, order, w.scratch) : undefined
    for (const c of chunks) {
      const rel = partitionDir(c.feature, c.day)
      const dir = join(w.root, rel)
      // Checked once per commit, not cached across commits: a partition directory deleted meanwhile
      // (a retention job removing an old day) must be created again for a late record.
      if (!dirs.has(dir)) {
        await ensureDir(w.root, dir)
        dirs.add(dir)
      }
      const seq = w.seq++
      const tmp = `${rel}/${TEMP_PREFIX}${w.writerId}-${seq}${TEMP_SUFFIX}`
      const final = compaction
        ? `${rel}/${compactedName(w.writerId, seq, c.bounds, { ...compaction.cover, part: done.length + 1, parts: compaction.parts })}`
        : `${rel}/${segmentName(w.writerId, seq, c.bounds)}`
      const meta = new Map([
        ['skewless.format', '1'],
        ['skewless.feature', c.feature],
        ['skewless.value_type', String(w.featureTypes[c.feature])],
        ['skewless.sorted_by', 'entity,event_time,version,available_time'],
        ['skewless.min_event_time', String(c.bounds.minEventTime)],
        ['skewless.max_event_time', String(c.bounds.maxEventTime)],
        ['skewless.min_available_time', String(c.bounds.minAvailableTime)],
        ['skewless.max_available_time', String(c.bounds.maxAvailableTime)],
      ])
      const entry = { tmp, final, dir, rows: c.order.length, bytes: 0, bounds: c.bounds }
      done.push(entry)
      if (w.encoder === 'parquet-wasm') {
        const batch = chunkBatch(
          cols,
          sorted as SortedColumns,
          c,
          w.featureTypes[c.feature] as string,
          w.scratch,
        )
        if (w.pool && w.encoder === 'parquet-wasm') {
          // The IPC copy is taken now, so the scratch buffers are free for the next file.
          const ipc = tableToIPC(new Table([batch]), 'stream')
          const job = {
            ipc,
            path: join(w.root, tmp),
            compression: w.compression,
            metadata: [...meta],
            rows: batch.numRows,
          }
          track(
            w.pool.run(job).then((size) => {
              bytes += size
              entry.bytes = size
            }),
          )
        } else {
          const buf = encodeParquetWasm(batch, meta, w.compression)
          bytes += buf.length
          entry.bytes = buf.length
          track(writeFileDurable(join(w.root, tmp), buf))
        }
        await yieldToLoop()
      } else {
        await writeParquetjs(join(w.root, tmp), records, c.order, w.featureTypes, meta)
        entry.bytes = (await stat(join(w.root, tmp))).size
        bytes += entry.bytes
        track(fsyncFile(join(w.root, tmp)))
      }
    }
    onPosted?.()
    await Promise.all(io)
    if (compaction && done.length !== compaction.parts) {
      throw new Error(`compaction wrote ${done.length} files, expected ${compaction.parts}`)
    }
    await ticket?.ready
    unlock = await w.manifest.lock()
    extras?.beforeVersion?.()
    // Last step before anything becomes visible (version, renames): a writer that lost its lock
    // (another one took over after the lease ran out) must not touch the log any more. One small read
    // per commit; the window between it and the renames is what the lease's margin covers.
    await w.verifyLock?.()
    await w.manifest.finishRenames()
    crashPoint(compaction ? 'compact-before-version' : 'commit-before-version')
    if (done.length > 0 || extras?.marks !== undefined || compaction) {
      version = await w.manifest.write({
        add: done.map((d) => ({ path: d.final, tmp: d.tmp, rows: d.rows, bytes: d.bytes, ...d.bounds })),
        remove: compaction?.remove ?? [],
        ...(extras?.marks !== undefined ? { marks: extras.marks } : {}),
      })
      committed = true
    }
    crashPoint(compaction ? 'compact-before-rename' : 'commit-version-written')
    for (const d of done) {
      await rename(join(w.root, d.tmp), join(w.root, d.final))
      renamedCount++
      crashPoint(compaction ? 'compact-renamed' : 'commit-renamed')
    }
    await Promise.all([...new Set(done.map((d) => d.dir))].map((d) => fsyncDir(d)))
    if (version) w.manifest.renamed(version)
    if (registered) w.unsettled.delete(firstSeq)
    try {
      await w.manifest.maybeSnapshot()
    } catch (e) {
      w.onSnapshotFailed?.(e)
    }
    return { files: done.length, bytes }
  } catch (e) {
    extras?.onFailed?.(committed)
    if (registered && !committed) w.unsettled.delete(firstSeq)
    await Promise.allSettled(io)
    // Once the version is written, its temp files are the commit: the next commit (or the next open)
    // renames them (roll forward). Deleting them would leave only the renames that succeeded.
    if (committed) {
      for (const d of done.slice(renamedCount)) w.manifest.unfinished.push([d.tmp, d.final])
    } else {
      await Promise.allSettled(done.map((d) => removeQuietly(join(w.root, d.tmp))))
      // An incomplete compaction is ignored by readers; remove what it renamed (else the next open does).
      if (compaction) await Promise.allSettled(done.map((d) => removeQuietly(join(w.root, d.final))))
    }
    if (e instanceof LogLockedError || e instanceof MarksRefusedError) throw e
    throw new CommitFailedError(
      `commit of ${records.length} records failed: ${String((e as Error)?.message ?? e)}`,
      {
        cause: e,
      },
    )
  } finally {
    unlock?.()
    ticket?.release()
  }
}
