/**
 * A partitioned log read as one: the `partition=<n>` directories under a root, each a Parquet log
 * written by the worker that owned that stream partition (one writer per directory), opened
 * read-only and presented as a single `OfflineLog` to the as-of join, the skew audit, `stateAt`
 * and `materialize`. Writes go to each partition's own log, never through this view.
 */
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { type CommitMarks, type FeatureInfo, type FeatureWrite, InvalidArgumentError } from '@skewless/core'
import type { FeatureTypes, OfflineLog, ScanOptions, StateAtOptions } from '@skewless/offline-log'
import type { RecordBatch } from 'apache-arrow'
import { ReadOnlyLogError } from './errors.js'
import type { FeatureDefinition } from './manifest-format.js'
import { parquetLog } from './parquet-log.js'
import type { LogDescription, ParquetLog, ParquetLogOptions } from './types.js'

/** Options of `openPartitionedLog`. */
export interface PartitionedLogOptions
  extends Omit<ParquetLogOptions, 'dir' | 'features' | 'readOnly' | 'deadLetters'> {
  /** The root holding `partition=<n>` directories (e.g. a worker's `log` root). */
  root: string
  /** Declared features (as for `parquetLog`): every partition is opened with them. */
  features: FeatureTypes | readonly FeatureInfo[]
}

/** A read-only view over every partition of a partitioned log. */
export interface PartitionedLog extends OfflineLog {
  /** The root directory. */
  readonly root: string
  /** The partitions found under the root when opened, sorted. */
  readonly partitions: readonly number[]
  /** Each partition's log (read-only), in `partitions` order. */
  readonly logs: readonly ParquetLog[]
  /**
   * The committed files of every partition (`ParquetLog.listFiles`), for DuckDB:
   * `read_parquet([...paths], hive_partitioning = true)` reads each row once and gives each row its
   * `partition` column.
   */
  listFiles(features?: readonly string[]): Promise<string[]>
  /**
   * The union of the partitions' descriptions: every feature definition (by name), files and rows
   * summed; `version` is the highest partition's, `marks` are empty (each partition has its own:
   * read them from `logs`).
   */
  describe(): Promise<LogDescription>
}

const PARTITION_DIR = /^partition=(\d+)$/

/**
 * Open every `partition=<n>` directory under `root` read-only and read them as one log. An entity
 * is expected in one partition only (streams are partitioned by entity); where it is not, `stateAt`
 * still returns one record per (entity, feature, tile): the newest by (eventTime, version).
 * @throws InvalidArgumentError when `root` holds no `partition=<n>` directory.
 */
export async function openPartitionedLog(options: PartitionedLogOptions): Promise<PartitionedLog> {
  const { root, ...rest } = options
  let names: string[]
  try {
    names = await readdir(root)
  } catch (err) {
    throw new InvalidArgumentError(`offline-parquet: cannot read the partitioned log root ${root}`, {
      cause: err,
    })
  }
  const partitions: number[] = []
  for (const name of names) {
    const m = PARTITION_DIR.exec(name)
    if (m && (await stat(join(root, name))).isDirectory()) partitions.push(Number(m[1]))
  }
  partitions.sort((a, b) => a - b)
  if (partitions.length === 0) {
    throw new InvalidArgumentError(
      `offline-parquet: no partition=<n> directory under ${root}: not a partitioned log (open a single log with parquetLog)`,
    )
  }
  const logs: ParquetLog[] = []
  try {
    for (const p of partitions) {
      logs.push(await parquetLog({ ...rest, dir: join(root, `partition=${p}`), readOnly: true }))
    }
  } catch (err) {
    await Promise.allSettled(logs.map((l) => l.close()))
    throw err
  }
  return partitionedView(root, partitions, logs)
}

function partitionedView(root: string, partitions: number[], logs: ParquetLog[]): PartitionedLog {
  const first = logs[0] as ParquetLog
  const refuse = async (): Promise<never> => {
    throw new ReadOnlyLogError(
      "writing through a partitioned log (a read-only view: each partition's writer appends to <root>/partition=<n>)",
    )
  }
  return {
    root,
    partitions,
    logs,
    capabilities: {
      durable: logs.every((l) => l.capabilities.durable),
      // Every batch comes from one partition's segment: sorted when each partition's are.
      sortedSegments: logs.every((l) => l.capabilities.sortedSegments),
    },
    featureTypes: first.featureTypes,
    append: refuse,
    appendMarked: refuse,
    write: refuse,
    async readMarks(): Promise<CommitMarks> {
      return {}
    },
    async flush() {},
    async close() {
      const results = await Promise.allSettled(logs.map((l) => l.close()))
      const failed = results.find((r) => r.status === 'rejected')
      if (failed) throw (failed as PromiseRejectedResult).reason
    },
    async *scan(options: ScanOptions): AsyncIterable<RecordBatch> {
      for (const log of logs) yield* log.scan(options)
    },
    async *scanRows(options: ScanOptions): AsyncIterable<FeatureWrite[]> {
      for (const log of logs) yield* log.scanRows(options)
    },
    async stateAt(t: number, options: StateAtOptions): Promise<FeatureWrite[]> {
      const parts = await Promise.all(logs.map((l) => l.stateAt(t, options)))
      if (parts.length === 1) return parts[0] as FeatureWrite[]
      // One record per (feature, entity, tile): the newest by (eventTime, version) of the partitions'.
      const best = new Map<string, FeatureWrite>()
      for (const part of parts) {
        for (const r of part) {
          const key = `${r.feature}\u0000${r.entity}\u0000${r.tileStart ?? ''}`
          const seen = best.get(key)
          if (
            seen === undefined ||
            r.eventTime > seen.eventTime ||
            (r.eventTime === seen.eventTime && r.version > seen.version)
          )
            best.set(key, r)
        }
      }
      return [...best.values()].sort(
        (a, b) =>
          cmp(a.feature, b.feature) || cmp(a.entity, b.entity) || (a.tileStart ?? 0) - (b.tileStart ?? 0),
      )
    },
    async listFiles(features?: readonly string[]): Promise<string[]> {
      const lists = await Promise.all(logs.map((l) => l.listFiles(features)))
      return lists.flat()
    },
    async describe(): Promise<LogDescription> {
      const all = await Promise.all(logs.map((l) => l.describe()))
      const byName = new Map<string, FeatureDefinition>()
      for (const d of all) for (const f of d.features) if (!byName.has(f.name)) byName.set(f.name, f)
      let rows: number | null = 0
      for (const d of all) rows = rows === null || d.rows === null ? null : rows + d.rows
      return {
        features: [...byName.values()],
        version: Math.max(...all.map((d) => d.version)),
        marks: {},
        files: all.reduce((a, d) => a + d.files, 0),
        rows,
      }
    },
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
