import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { FeatureWrite } from '@skewless/core'
import type { FeatureTypes } from '@skewless/offline-log'
import { Table, tableToIPC } from 'apache-arrow'
import { chunkBatch, type SortedColumns, scatterCommit } from './chunk-batch.js'
import { extractColumns } from './commit-columns.js'
import { crashPoint } from './crash-points.js'
import { writeParquetjs } from './encode-parquetjs.js'
import type { EncodePool } from './encode-pool.js'
import { encodeParquetWasm, type ParquetCompression } from './encode-wasm.js'
import { CommitFailedError, LogLockedError } from './errors.js'
import { ensureDir, fsyncDir, fsyncFile, removeQuietly, rename, writeFileDurable } from './file-io.js'
import {
  type Cover,
  compactedName,
  JOURNAL_DIR,
  partitionDir,
  segmentName,
  TEMP_PREFIX,
  TEMP_SUFFIX,
} from './layout.js'
import { partitionColumns } from './partition.js'
import type { Journal } from './recovery.js'
import type { Scratch } from './scratch.js'
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
   * journal was written (the next open rolls it forward). Compaction only replaces files below the
   * smallest of these (`settledBefore`), so no file ever appears inside a range it replaced.
   */
  unsettled: Set<number>
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
 * 3. when the commit has several files, write a journal listing the renames (temp + fsync + rename),
 *    so a crash during step 4 is rolled forward on the next open and a commit is all-or-nothing;
 * 4. rename every temp file to its final name, fsync the directories, delete the journal.
 * Only then does the caller acknowledge the appends. On error every temp file is removed, unless the
 * journal was written (the next open then completes the commit).
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
): Promise<CommitResult> {
  const firstSeq = w.seq
  // Only a commit is registered in (and removed from) `unsettled`. A compaction's outputs need no
  // entry (they are renamed before `compactLog` returns), and its first sequence number can equal
  // that of a commit that has not taken one yet (it is waiting in its first await): removing that
  // number would settle the commit early, and a later compaction could then replace an id range
  // that the commit's file lands in afterwards, hiding acknowledged rows.
  const registered = compaction === undefined
  if (registered) w.unsettled.add(firstSeq)
  let journaled = false
  const done: { tmp: string; final: string; dir: string }[] = []
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
      done.push({ tmp, final, dir })
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
            }),
          )
        } else {
          const buf = encodeParquetWasm(batch, meta, w.compression)
          bytes += buf.length
          track(writeFileDurable(join(w.root, tmp), buf))
        }
        await yieldToLoop()
      } else {
        await writeParquetjs(join(w.root, tmp), records, c.order, w.featureTypes, meta)
        bytes += (await stat(join(w.root, tmp))).size
        track(fsyncFile(join(w.root, tmp)))
      }
    }
    onPosted?.()
    await Promise.all(io)
    if (compaction && done.length !== compaction.parts) {
      throw new Error(`compaction wrote ${done.length} files, expected ${compaction.parts}`)
    }
    // Last step before anything becomes visible (journal, renames): a writer that lost its lock
    // (another one took over after the lease ran out) must not touch the log any more. One small read
    // per commit; the window between it and the renames is what the lease's margin covers.
    await w.verifyLock?.()
    let journal: string | undefined
    // A compaction needs no journal: its output names say whether it is complete (coverage.ts).
    if (done.length > 1 && !compaction) {
      journal = join(w.root, JOURNAL_DIR, `commit-${w.writerId}-${firstSeq}.json`)
      const body: Journal = { files: done.map((d) => [d.tmp, d.final]) }
      await ensureDir(w.root, join(w.root, JOURNAL_DIR))
      await writeFileDurable(`${journal}.tmp`, Buffer.from(JSON.stringify(body)))
      await rename(`${journal}.tmp`, journal)
      journaled = true
      await fsyncDir(join(w.root, JOURNAL_DIR))
    }
    if (compaction) crashPoint('compact-before-rename')
    else crashPoint('commit-before-rename')
    for (const d of done) {
      await rename(join(w.root, d.tmp), join(w.root, d.final))
      crashPoint(compaction ? 'compact-renamed' : 'commit-renamed')
    }
    await Promise.all([...new Set(done.map((d) => d.dir))].map((d) => fsyncDir(d)))
    if (journal) await removeQuietly(journal)
    if (registered) w.unsettled.delete(firstSeq)
    return { files: done.length, bytes }
  } catch (e) {
    if (registered && !journaled) w.unsettled.delete(firstSeq)
    await Promise.allSettled(io)
    // Once the journal is written, its temp files are the commit: the next open renames them (roll
    // forward). Deleting them would leave only the renames that succeeded, a partial commit.
    if (!journaled) await Promise.allSettled(done.map((d) => removeQuietly(join(w.root, d.tmp))))
    // An incomplete compaction is ignored by readers; remove what it renamed (else the next open does).
    if (compaction) await Promise.allSettled(done.map((d) => removeQuietly(join(w.root, d.final))))
    if (e instanceof LogLockedError) throw e
    throw new CommitFailedError(
      `commit of ${records.length} records failed: ${String((e as Error)?.message ?? e)}`,
      {
        cause: e,
      },
    )
  }
}
