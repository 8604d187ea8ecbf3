/** `skewless join <log> --labels labels.parquet --out training.parquet`: the leak-free as-of join. */
import { asOfJoin, writeParquet } from '@skewless/asof-join'
import type { WindowSpec } from '@skewless/core'
import type { TimeBasis } from '@skewless/offline-log'
import { discoverLog } from '../discover-log.js'
import { countingLog, openLog } from '../open-log.js'
import { progressBar } from '../progress.js'
import { readParquetTable } from '../read-table.js'
import type { CliIo, LogFeature } from '../types.js'
import { summarizeLog } from './inspect.js'

export interface JoinCommandOptions {
  labels: string
  out: string
  features?: string[]
  entityColumn: string
  timeColumn: string
  by: TimeBasis
  includeAge?: boolean
  json?: boolean
}

export async function joinCommand(path: string, opts: JoinCommandOptions, io: CliIo): Promise<void> {
  const labels = await readParquetTable(opts.labels, 'labels')
  const found = await discoverLog(path)
  const features = opts.features ?? found.features.map((f) => f.name)
  // The join has no progress callback: count the rows it scans against the rows the files hold.
  const totalRows = io.progress
    ? (await summarizeLog(path)).features
        .filter((f) => features.includes(f.name))
        .reduce((s, f) => s + f.rows, 0)
    : 0
  const log = await openLog(found)
  const bar = progressBar(io, 'join')
  let read = 0
  let training: Awaited<ReturnType<typeof asOfJoin>>
  try {
    const counted = countingLog(log, (rows) => {
      read += rows
      bar.update(read, totalRows, `${read} log rows`)
    })
    training = await asOfJoin(labels, counted, {
      features: features.map((name) => featureRequest(found.features, name)),
      by: opts.by,
      entityColumn: opts.entityColumn,
      timeColumn: opts.timeColumn,
      includeAge: opts.includeAge ?? false,
    })
    await writeParquet(training, opts.out)
    // The join prunes files outside the labels' entities and times: done is 100% of what it needed.
    bar.update(totalRows, totalRows, `${read} log rows`)
  } finally {
    bar.stop()
    await log.close()
  }
  const summary = { out: opts.out, rows: training.numRows, columns: training.numCols, logRowsRead: read }
  if (opts.json) io.stdout(`${JSON.stringify(summary)}\n`)
  else
    io.stdout(
      `wrote ${opts.out}: ${summary.rows} label rows x ${summary.columns} columns (${read} log rows read)\n`,
    )
}

/**
 * A feature the manifest records as emitted in additive tiles is joined over its window (the sum the
 * reader computes); every other feature by name.
 */
export function featureRequest(
  defs: readonly LogFeature[],
  name: string,
): string | { name: string; window: WindowSpec } {
  const def = defs.find((f) => f.name === name)
  return def?.emit === 'tiles' && def.window !== undefined ? { name, window: def.window as WindowSpec } : name
}
