/** `skewless compact <log>`: merge each partition's small files, feature by feature, with a progress bar. */
import type { CompactionReport } from '@skewless/offline-parquet'
import { discoverLog } from '../discover-log.js'
import { bytes } from '../format.js'
import { openLog } from '../open-log.js'
import { progressBar } from '../progress.js'
import type { CliIo } from '../types.js'

export interface CompactCommandOptions {
  minFiles?: number
  before?: number
  json?: boolean
}

export async function compactCommand(path: string, opts: CompactCommandOptions, io: CliIo): Promise<void> {
  const found = await discoverLog(path)
  const log = await openLog(found, true)
  const bar = progressBar(io, 'compact')
  const total: CompactionReport = {
    partitions: 0,
    filesIn: 0,
    filesOut: 0,
    rows: 0,
    bytesIn: 0,
    bytesOut: 0,
    leftoversRemoved: 0,
    durationMs: 0,
  }
  try {
    // One call per feature: `compact` has no progress callback, so the bar advances per feature.
    const names = found.features.map((f) => f.name)
    for (let i = 0; i < names.length; i++) {
      bar.update(i, names.length, names[i])
      const r = await log.compact({
        features: [names[i] as string],
        ...(opts.minFiles === undefined ? {} : { minFiles: opts.minFiles }),
        ...(opts.before === undefined ? {} : { before: opts.before }),
      })
      for (const k of Object.keys(total) as (keyof CompactionReport)[]) total[k] += r[k]
    }
    bar.update(names.length, names.length)
  } finally {
    bar.stop()
    await log.close()
  }
  if (opts.json) io.stdout(`${JSON.stringify(total)}\n`)
  else {
    io.stdout(
      `compacted ${total.partitions} partitions: ${total.filesIn} files -> ${total.filesOut}, ${total.rows} rows, ` +
        `${bytes(total.bytesIn)} -> ${bytes(total.bytesOut)}, ${Math.round(total.durationMs)} ms\n`,
    )
  }
}
