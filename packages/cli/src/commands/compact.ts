/** `skewless compact <log>`: merge each partition's small files, with a progress bar fed by compact's onProgress. */
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
  let total: CompactionReport
  try {
    total = await log.compact({
      ...(opts.minFiles === undefined ? {} : { minFiles: opts.minFiles }),
      ...(opts.before === undefined ? {} : { before: opts.before }),
      onProgress: (p) => bar.update(p.done, p.total ?? p.done, `${p.done}/${p.total ?? '?'} ${p.unit}s`),
    })
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
