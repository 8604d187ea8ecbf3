/**
 * State checkpoints: `stateAt(t)` over a long log without reading every file up to `t`
 * (docs/decisions/state-checkpoints.md).
 *
 * A checkpoint of feature `f` holds, for every (entity[, tileStart]), the record `stateAt` picks among
 * the non-stale rows of a set `B` of files — the greatest (eventTime, version), a write logged twice
 * counted with its earliest availableTime (core's `compareRecord`) — together with `B` and the greatest event
 * and available time of those records. For `t` at or after that greatest time on the query's basis,
 * every checkpoint record passes the `<= t` filter, so it is also the best of its key among the rows
 * of `B` that pass it; the answer is then the best over the checkpoint and the rows of the live files
 * not in `B`, which is the best over every row of the log (the maximum is idempotent: a row read
 * twice changes nothing). Sound as long as every row the checkpoint came from is still in the log:
 * compaction moves rows between files without dropping any, and the only way rows leave the log — a
 * file recorded as lost (`acceptLostFiles`) — removes every checkpoint first (`dropStateCheckpoints`,
 * before the loss is committed). A file of `B` that is no longer live must have been replaced by a
 * live compaction output (checked by the output's id range); anything else makes the checkpoint unusable.
 *
 * Layout: `<root>/_skewless/state/<feature>.json` (the pointer, replaced by rename) and the records as
 * an Arrow IPC stream `<feature>-<stamp>.arrows` next to it. Nothing here ends in `.parquet`, so a
 * Hive-style glob of the directory never reads a checkpoint as data.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { FeatureWrite } from '@skewless/core'
import { throwIfAborted } from '@skewless/core/internal'
import type { FeatureTypes, ScanOptions, StateAtOptions, TimeBasis } from '@skewless/offline-log'
import {
  filterBatch,
  resolveScan,
  stateAtFromBatches,
  writesToRecordBatch,
} from '@skewless/offline-log/adapter'
import { type RecordBatch, Table, tableFromIPC, tableToIPC } from 'apache-arrow'
import { ensureDir, fsyncDir, removeQuietly, rename, writeFileDurable } from './file-io.js'
import { compareIds, parseName } from './layout.js'
import type { Manifest } from './manifest.js'
import type { StateCheckpointReport } from './types.js'

/** Where checkpoints live, relative to the log root. */
export const STATE_DIR = '_skewless/state'
const FORMAT = 'skewless.state/1'

/** The pointer file of a feature's checkpoint. */
interface StatePointer {
  format: typeof FORMAT
  feature: string
  /** Manifest version whose live files `files` were. */
  version: number
  /** Paths (relative to the root) of the files whose rows the records are the best of. */
  files: string[]
  /** Greatest eventTime / availableTime among the records (`-Infinity` as null when there are none). */
  maxEventTime: number | null
  maxAvailableTime: number | null
  rows: number
  /** File name of the records (Arrow IPC stream) in the state directory. */
  data: string
}

/** What checkpoints need from the log. */
export interface StateEnv {
  root: string
  manifest: Manifest
  featureTypes: Readonly<FeatureTypes>
  readOnly: boolean
  /** The log's scan, leaving out the given absolute paths. */
  scan(o: ScanOptions, what: string, exclude?: ReadonlySet<string>): AsyncIterable<RecordBatch>
}

const pointerPath = (root: string, feature: string) => join(root, STATE_DIR, `${feature}.json`)

async function readPointer(root: string, feature: string): Promise<StatePointer | undefined> {
  let text: string
  try {
    text = await readFile(pointerPath(root, feature), 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw e
  }
  // Written by rename, so never torn; anything unexpected is ignored (read every file instead).
  try {
    const p = JSON.parse(text) as StatePointer
    if (p.format !== FORMAT || p.feature !== feature || !Array.isArray(p.files)) return undefined
    return p
  } catch {
    return undefined
  }
}

/**
 * The files of `p` that are live now (their rows must not be read again), or `undefined` when the
 * checkpoint cannot be used: a file it came from is gone and no live compaction output replaced it.
 */
function coveredNow(m: Manifest, p: StatePointer): Set<string> | undefined {
  const out = new Set<string>()
  for (const rel of p.files) {
    const cut = rel.lastIndexOf('/')
    const live = m.filesIn(rel.slice(0, cut))
    const name = rel.slice(cut + 1)
    if (live.has(name)) {
      out.add(rel)
      continue
    }
    const id = parseName(name)?.id
    if (id === undefined) return undefined
    let replaced = false
    for (const other of live.keys()) {
      const c = parseName(other)?.cover
      if (c && compareIds(c.lo, id) <= 0 && compareIds(id, c.hi) <= 0) {
        replaced = true
        break
      }
    }
    if (!replaced) return undefined
  }
  return out
}

interface Usable {
  pointer: StatePointer
  covered: Set<string>
  records: RecordBatch[]
}

/** The feature's checkpoint with its records, when one exists and can be used; else `undefined`. */
async function usable(env: StateEnv, feature: string): Promise<Usable | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const pointer = await readPointer(env.root, feature)
    if (pointer === undefined || env.manifest.version < 0) return undefined
    // A reader in another process may not have read the versions the checkpoint covers yet.
    if (env.readOnly && pointer.version > env.manifest.version) await env.manifest.refresh()
    if (pointer.version > env.manifest.version) return undefined
    const covered = coveredNow(env.manifest, pointer)
    if (covered === undefined) return undefined
    let bytes: Buffer
    try {
      bytes = await readFile(join(env.root, STATE_DIR, pointer.data))
    } catch (e) {
      // Replaced by a newer checkpoint between reading the pointer and its records: read the new one.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue
      throw e
    }
    return { pointer, covered, records: tableFromIPC(bytes).batches }
  }
  return undefined
}

const absolute = (root: string, rels: Iterable<string>) => {
  const out = new Set<string>()
  for (const r of rels) out.add(join(root, r))
  return out
}

/**
 * `stateAt` that starts from each feature's checkpoint when it can be used at `t`: its records
 * (filtered to `entities`), then the live files it does not cover; other features read every file up
 * to `t`. Same answer as reading every file (tested against it on random logs).
 */
export async function stateAtWithCheckpoints(
  env: StateEnv,
  t: number,
  o: StateAtOptions,
  by: TimeBasis,
): Promise<FeatureWrite[]> {
  const to = Math.floor(t) + 1
  const signal = o.signal
  throwIfAborted(signal, 'offline-parquet stateAt')
  const plain: string[] = []
  const fromCheckpoint: { feature: string; u: Usable }[] = []
  for (const feature of new Set(o.features)) {
    const u = await usable(env, feature)
    const max = u && (by === 'event' ? u.pointer.maxEventTime : u.pointer.maxAvailableTime)
    if (u !== undefined && (max === null || t >= (max as number))) fromCheckpoint.push({ feature, u })
    else plain.push(feature)
  }
  const entities = o.entities
  const sig = signal === undefined ? {} : { signal }
  async function* batches(): AsyncGenerator<RecordBatch> {
    if (plain.length > 0) yield* env.scan({ features: plain, entities, by, to, ...sig }, 'stateAt')
    for (const { feature, u } of fromCheckpoint) {
      const only = resolveScan({ features: [feature], ...(entities ? { entities } : {}) }, env.featureTypes)
      for (const b of u.records) {
        throwIfAborted(signal, 'offline-parquet stateAt')
        const kept = entities ? filterBatch(b, only, false) : b
        if (kept) yield kept
      }
      yield* env.scan(
        { features: [feature], entities, by, to, ...sig },
        'stateAt',
        absolute(env.root, u.covered),
      )
    }
  }
  return stateAtFromBatches(batches(), t, by)
}

/** Build (or extend) the checkpoint of each feature. Writer only. */
export async function checkpointState(
  env: StateEnv,
  features: readonly string[],
  filesRead: () => number,
  signal?: AbortSignal,
): Promise<StateCheckpointReport> {
  const started = performance.now()
  const report: StateCheckpointReport = { features: [], durationMs: 0 }
  const dir = join(env.root, STATE_DIR)
  await ensureDir(env.root, dir)
  for (const feature of features) {
    throwIfAborted(signal, 'offline-parquet checkpointState')
    const m = env.manifest
    const version = m.version
    const prefix = `feature=${feature}/`
    // Files whose renames are unfinished are not in B: they are read by the next stateAt instead.
    const live = m.files().filter((f) => f.path.startsWith(prefix) && !m.pending.has(f.path))
    const prev = await usable(env, feature)
    const before = filesRead()
    async function* batches(): AsyncGenerator<RecordBatch> {
      if (prev) yield* prev.records
      // Every live file the previous checkpoint does not hold (all of them without one). A file
      // committed meanwhile may be read too: harmless, its rows are real and it is not in B.
      yield* env.scan(
        {
          features: [feature],
          by: 'event',
          includeStale: false,
          ...(signal === undefined ? {} : { signal }),
        },
        'checkpointState',
        absolute(env.root, prev?.covered ?? []),
      )
    }
    const records = await stateAtFromBatches(batches(), Number.POSITIVE_INFINITY, 'event')
    let maxE = Number.NEGATIVE_INFINITY
    let maxA = Number.NEGATIVE_INFINITY
    for (const r of records) {
      if (r.eventTime > maxE) maxE = r.eventTime
      if (r.availableTime > maxA) maxA = r.availableTime
    }
    const stamp = `${version}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
    const data = `${feature}-${stamp}.arrows`
    const bytes = tableToIPC(new Table([writesToRecordBatch(records, env.featureTypes)]), 'stream')
    await writeFileDurable(join(dir, data), bytes)
    const pointer: StatePointer = {
      format: FORMAT,
      feature,
      version,
      files: live.map((f) => f.path),
      maxEventTime: records.length > 0 ? maxE : null,
      maxAvailableTime: records.length > 0 ? maxA : null,
      rows: records.length,
      data,
    }
    const tmp = join(dir, `_tmp-${feature}-${stamp}.json`)
    await writeFileDurable(tmp, Buffer.from(JSON.stringify(pointer)))
    await rename(tmp, pointerPath(env.root, feature))
    await fsyncDir(dir)
    // The previous records: a reader that read the old pointer retries with the new one.
    if (prev) await removeQuietly(join(dir, prev.pointer.data))
    report.features.push({
      feature,
      version,
      files: pointer.files.length,
      filesRead: filesRead() - before,
      rows: records.length,
    })
  }
  report.durationMs = performance.now() - started
  return report
}

/**
 * Remove every checkpoint of the log (pointers first, then records), fsynced: done before a loss of
 * files is committed, since their rows may be in a checkpoint.
 */
export async function dropStateCheckpoints(root: string): Promise<void> {
  const dir = join(root, STATE_DIR)
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return
    throw e
  }
  for (const n of names) if (n.endsWith('.json')) await removeQuietly(join(dir, n))
  await fsyncDir(dir)
  for (const n of names) if (!n.endsWith('.json')) await removeQuietly(join(dir, n))
}
