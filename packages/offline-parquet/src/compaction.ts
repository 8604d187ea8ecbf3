import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { AbortedError, type FeatureWrite, InvalidArgumentError } from '@skewless/core'
import { progressReporter } from '@skewless/core/adapter'
import { throwIfAborted } from '@skewless/core/internal'
import { recordBatchToWrites } from '@skewless/offline-log'
import { Scratch } from './commit-buffers.js'
import { crashPoint } from './crash-points.js'
import type { EncodePool } from './encode-pool.js'
import { CorruptFileError } from './errors.js'
import { fsyncDir, removeQuietly } from './file-io.js'
import { compareIds, DAY_MS, type ParsedName, type SegmentId } from './layout.js'
import type { PartitionVerifier } from './manifest-check.js'
import { type NamedFile, resolvePartition } from './partition-listing.js'
import { decodeSegment, ipcToSegmentBatches } from './read-segment.js'
import { dirEntries, listPartitionsOf, type PartitionDir } from './segment-files.js'
import { commitRecords, type SegmentWriter, settledBefore } from './segment-writer.js'
import type { CompactionReport, CompactOptions } from './types.js'

type Parsed = NamedFile & { parsed: ParsedName }

/** Read one input file as records (we hold the writer lock: nobody else deletes it meanwhile). */
async function readRecords(
  pool: EncodePool | undefined,
  path: string,
  feature: string,
): Promise<FeatureWrite[]> {
  let batches: ReturnType<typeof decodeSegment>
  if (pool) {
    const r = await pool.decode(path)
    if (r.corrupt !== undefined) throw new CorruptFileError(path, r.corrupt)
    batches = ipcToSegmentBatches(path, r.ipc as Uint8Array, feature)
  } else batches = decodeSegment(path, await readFile(path), feature)
  const out: FeatureWrite[] = []
  for (const b of batches) for (const r of recordBatchToWrites(b)) out.push(r)
  return out
}

/**
 * The runs of one partition: consecutive files (in id order) that merge into one output set. Full
 * outputs of earlier compactions (every part but the last has `rollRows` rows) are not rewritten, so
 * a partition is not recompacted from scratch each time: they split the files into stretches, and
 * only stretches of two or more files are merged.
 */
function stretches(files: Parsed[]): Parsed[][] {
  const out: Parsed[][] = []
  let cur: Parsed[] = []
  for (const f of files) {
    const c = f.parsed.cover
    if (c && c.part < c.parts) {
      if (cur.length > 1) out.push(cur)
      cur = []
    } else cur.push(f)
  }
  if (cur.length > 1) out.push(cur)
  return out
}

/** What a compaction needs from the open log. */
export interface CompactContext {
  writer: SegmentWriter
  featureTypes: Readonly<Record<string, string>>
  /** Compares a partition with the manifest: a compaction never runs on a partition missing a file. */
  verifier: PartitionVerifier
}

const EVERYTHING = { by: 'event' as const, from: Number.NEGATIVE_INFINITY, to: Number.POSITIVE_INFINITY }

/**
 * List a partition and check it against the manifest. A missing committed file or a foreign one
 * throws: merging the rest would make the loss permanent (the replaced files, and so the record of
 * what was there, are deleted) or absorb rows that are not the log's.
 */
async function verifiedListing(v: PartitionVerifier, p: PartitionDir): Promise<string[]> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const token = v.begin()
    const names = await dirEntries(p.dir)
    const r = await v.check(p, resolvePartition(names).live, EVERYTHING, token)
    if (r === 'ok') return names
    if (r !== 'retry') {
      if (r.errors.length > 0) throw r.errors[0]
      return names
    }
    await new Promise((resolve) => setTimeout(resolve, attempt))
  }
  // Commits kept changing the manifest during every listing: leave this partition for the next run.
  return []
}

/** Validate options (typed errors for bad input). */
export function resolveCompactOptions(o: CompactOptions | undefined, declared: readonly string[]) {
  if (o !== undefined && (typeof o !== 'object' || o === null)) {
    throw new InvalidArgumentError('offline-parquet compact: options must be an object')
  }
  const features = o?.features ?? declared
  if (!Array.isArray(features))
    throw new InvalidArgumentError('offline-parquet compact: features must be an array')
  for (const f of features) {
    if (!declared.includes(f))
      throw new InvalidArgumentError(`offline-parquet compact: unknown feature "${f}"`)
  }
  const minFiles = o?.minFiles ?? 4
  if (!Number.isInteger(minFiles) || minFiles < 2) {
    throw new InvalidArgumentError(
      `offline-parquet compact: minFiles must be an integer >= 2, got ${String(minFiles)}`,
    )
  }
  const before = o?.before ?? Number.POSITIVE_INFINITY
  if (typeof before !== 'number' || Number.isNaN(before)) {
    throw new InvalidArgumentError(
      `offline-parquet compact: before must be a time in ms, got ${String(before)}`,
    )
  }
  return { features, minFiles, before, signal: o?.signal, onProgress: o?.onProgress }
}

/**
 * Compact partitions (see `ParquetLog.compact`). Per partition:
 * 1. list and resolve the names; remove leftovers of an earlier failed compaction;
 * 2. take the files below this writer's settled sequence (older writers' files are all final);
 * 3. per run of consecutive files (about `rollRows` rows): read them, sort and write the outputs through
 *    the commit path (temp file + fsync, rename, directory fsync) under names that record the id range
 *    they replace — the outputs are then committed;
 * 4. delete the inputs, fsync the directory.
 * Appends keep committing meanwhile: their files get greater ids than any range chosen in step 2.
 */
export async function compactLog(
  ctx: CompactContext,
  options: CompactOptions | undefined,
): Promise<CompactionReport> {
  const started = performance.now()
  const o = resolveCompactOptions(options, Object.keys(ctx.featureTypes))
  const w = ctx.writer
  const report: CompactionReport = {
    partitions: 0,
    filesIn: 0,
    filesOut: 0,
    rows: 0,
    bytesIn: 0,
    bytesOut: 0,
    leftoversRemoved: 0,
    durationMs: 0,
  }
  const scratch = new Scratch()
  const all = { by: 'event' as const, from: Number.NEGATIVE_INFINITY, to: Number.POSITIVE_INFINITY }
  // Listed first, so progress has a total (partitions created meanwhile are today's: left for the next run).
  const listed: [string, PartitionDir[]][] = []
  for (const feature of o.features) listed.push([feature, await listPartitionsOf(w.root, feature, all)])
  const total = listed.reduce((n, [, ps]) => n + ps.length, 0)
  const progress = progressReporter(o.onProgress, 'compact', 'partition', total)
  let visited = 0
  for (const [feature, partitions] of listed) {
    for (const p of partitions) {
      if (visited++ > 0) progress.add(1)
      if (o.signal?.aborted)
        throw new AbortedError('offline-parquet compact: aborted', { cause: o.signal.reason })
      if (Number.isNaN(p.day) || (p.day + 1) * DAY_MS > o.before) continue
      // The bound is taken before listing: a commit still running now may rename its file after a
      // later commit's (commits overlap), so a bound taken after the listing could put a file this
      // listing did not see inside a replaced range.
      const bound: SegmentId = { writer: w.writerId, seq: settledBefore(w) }
      const res = resolvePartition(await verifiedListing(ctx.verifier, p))
      if (res.covered.length + res.aborted.length > 0) {
        for (const f of [...res.aborted, ...res.covered]) await removeQuietly(join(p.dir, f))
        await fsyncDir(p.dir)
        report.leftoversRemoved += res.covered.length + res.aborted.length
      }
      const eligible = res.live.filter(
        (f): f is Parsed => f.parsed !== undefined && compareIds(f.parsed.id, bound) < 0,
      )
      eligible.sort((a, b) => compareIds(a.parsed.id, b.parsed.id))
      const runs = stretches(eligible)
      if (runs.reduce((n, r) => n + r.length, 0) < o.minFiles) continue
      let compacted = false
      for (const stretch of runs) {
        let i = 0
        while (i < stretch.length) {
          const inputs: Parsed[] = []
          const records: FeatureWrite[] = []
          // Before a run's inputs are read: nothing of this run is written yet, so an abort leaves the
          // partition as it was (runs committed before stay committed, each one complete).
          throwIfAborted(o.signal, 'offline-parquet compact')
          while (i < stretch.length && records.length < w.rollRows) {
            const f = stretch[i++] as Parsed
            inputs.push(f)
            for (const r of await readRecords(w.pool, join(p.dir, f.name), feature)) records.push(r)
          }
          const parts = Math.ceil(records.length / w.rollRows)
          if (parts >= inputs.length) continue // would not make fewer files (e.g. one file of rollRows rows)
          const bytesIn = await sizes(p.dir, inputs)
          // Reserve the outputs' sequence numbers now: appends committing meanwhile take the next ones.
          // Encoded with parquet-wasm whatever the log's encoder: the encoder is chosen per open, so the
          // inputs may hold what a parquet-wasm writer of this directory stored and parquetjs-lite cannot
          // (times before 1970, NaN), and a compaction must keep every row it replaces.
          const out = { ...w, seq: w.seq, scratch, encoder: 'parquet-wasm' as const }
          w.seq += parts
          const cover = {
            lo: (inputs[0] as Parsed).parsed.id,
            hi: (inputs[inputs.length - 1] as Parsed).parsed.id,
          }
          const remove = inputs.map(
            (f) => `feature=${feature}/${p.dir.slice(p.dir.lastIndexOf('date='))}/${f.name}`,
          )
          const res2 = await commitRecords(out, records, undefined, { cover, parts, remove })
          crashPoint('compact-before-unlink')
          for (const f of inputs) {
            await removeQuietly(join(p.dir, f.name))
            crashPoint('compact-unlinked')
          }
          await fsyncDir(p.dir)
          report.filesIn += inputs.length
          report.filesOut += res2.files
          report.rows += records.length
          report.bytesIn += bytesIn
          report.bytesOut += res2.bytes
          compacted = true
        }
      }
      if (compacted) report.partitions++
    }
  }
  progress.finish()
  scratch.clear()
  report.durationMs = performance.now() - started
  return report
}

async function sizes(dir: string, files: readonly NamedFile[]): Promise<number> {
  let n = 0
  for (const f of files) n += (await stat(join(dir, f.name))).size
  return n
}
