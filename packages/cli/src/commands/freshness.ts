/** `skewless freshness <log> --out chart.svg`: the freshness report and its chart (streaming vs batch). */
import { rename, rm, writeFile } from 'node:fs/promises'
import { discoverLog } from '../discover-log.js'
import { duration, table } from '../format.js'
import { openLog } from '../open-log.js'
import { progressBar } from '../progress.js'
import { readParquetTable } from '../read-table.js'
import { servedRecords } from '../served-file.js'
import type { CliIo } from '../types.js'

export interface FreshnessCommandOptions {
  out: string
  batchEvery: string
  samples: number
  from?: number
  to?: number
  features?: string[]
  served?: string
  json?: boolean
}

export async function freshnessCommand(
  path: string,
  opts: FreshnessCommandOptions,
  io: CliIo,
): Promise<void> {
  // Imported here: the chart library costs ~0.5 s to load, which the other commands should not pay.
  const { freshnessReport, renderFreshnessChart } = await import('@skewless/freshness')
  const served = opts.served
    ? servedRecords(await readParquetTable(opts.served, 'served values'), opts.served)
    : undefined
  const found = await discoverLog(path)
  const log = await openLog(found)
  const bar = progressBar(io, 'freshness')
  let report: Awaited<ReturnType<typeof freshnessReport>>
  try {
    report = await freshnessReport(log, {
      batchEvery: opts.batchEvery,
      samples: opts.samples,
      ...(opts.from === undefined ? {} : { from: opts.from }),
      ...(opts.to === undefined ? {} : { to: opts.to }),
      ...(opts.features ? { features: opts.features } : {}),
      ...(served ? { served } : {}),
      onProgress: (p) => bar.update(p.scansDone, p.scansTotal, `${p.feature} (${p.rows} rows)`),
    })
  } finally {
    bar.stop()
    await log.close()
  }
  const svg = renderFreshnessChart(report)
  const tmp = `${opts.out}.tmp-${process.pid}`
  try {
    await writeFile(tmp, svg)
    await rename(tmp, opts.out)
  } catch (cause) {
    await rm(tmp, { force: true })
    throw cause
  }
  if (opts.json) {
    const features = report.features.map((f) => ({
      feature: f.feature,
      records: f.records,
      entities: f.entities,
      streaming: f.streaming.overall,
      batch: f.batch.overall,
      ...(f.served ? { served: f.served.overall } : {}),
      writeDelay: f.writeDelay,
    }))
    io.stdout(`${JSON.stringify({ out: opts.out, batchEveryMs: report.batchEveryMs, features })}\n`)
    return
  }
  io.stdout(`wrote ${opts.out}\n`)
  io.stdout(
    table(
      [
        'feature',
        'entities',
        'streaming p50',
        'p90',
        'p99',
        'max',
        `batch every ${opts.batchEvery} p50`,
        'p90',
        'p99',
        'max',
      ],
      report.features.map((f) => [
        f.feature,
        f.entities,
        duration(f.streaming.overall.p50),
        duration(f.streaming.overall.p90),
        duration(f.streaming.overall.p99),
        duration(f.streaming.overall.max),
        duration(f.batch.overall.p50),
        duration(f.batch.overall.p90),
        duration(f.batch.overall.p99),
        duration(f.batch.overall.max),
      ]),
    ),
  )
}
