/** `skewless audit <log> --served served.parquet`: every served value checked against the log; exit 1 on skew. */
import { skewAudit } from '@skewless/asof-join'
import type { WindowSpec } from '@skewless/core'
import { discoverLog } from '../discover-log.js'
import { SkewFoundError } from '../errors.js'
import { iso, table } from '../format.js'
import { openLog } from '../open-log.js'
import { readParquetTable } from '../read-table.js'
import { servedRecords } from '../served-file.js'
import type { CliIo } from '../types.js'

export interface AuditCommandOptions {
  served: string
  ttl?: Record<string, string>
  inFlight?: string
  json?: boolean
}

export async function auditCommand(path: string, opts: AuditCommandOptions, io: CliIo): Promise<void> {
  const served = servedRecords(await readParquetTable(opts.served, 'served values'), opts.served)
  const found = await discoverLog(path)
  const log = await openLog(found)
  let report: Awaited<ReturnType<typeof skewAudit>>
  try {
    // Tile features are summed over their window, as the reader did (their definition is in the manifest).
    const tiles = found.features
      .filter((f) => f.emit === 'tiles' && f.window !== undefined)
      .map((f) => ({ name: f.name, strategy: 'additive' as const, window: f.window as WindowSpec }))
    report = await skewAudit(served, log, {
      ...(tiles.length > 0 ? { features: tiles } : {}),
      ...(opts.ttl ? { maxAge: opts.ttl } : {}),
      ...(opts.inFlight ? { inFlightMs: opts.inFlight } : {}),
    })
  } finally {
    await log.close()
  }
  if (opts.json) io.stdout(`${JSON.stringify(report)}\n`)
  else {
    io.stdout(
      `checked ${report.checked} served values: ${report.matched} match the log, ${report.mismatches.length} mismatches, ${report.inFlight.length} in flight\n`,
    )
    io.stdout(
      table(
        ['feature', 'checked', 'mismatches', 'in flight'],
        Object.entries(report.byFeature).map(([f, c]) => [f, c.checked, c.mismatches, c.inFlight]),
      ),
    )
    if (report.mismatches.length > 0) {
      io.stdout('\nfirst mismatches:\n')
      io.stdout(
        table(
          ['entity', 'feature', 'read at', 'served', 'logged'],
          report.mismatches
            .slice(0, 10)
            .map((m) => [m.entity, m.feature, iso(m.readTime), String(m.served), String(m.logged)]),
        ),
      )
    }
  }
  if (report.mismatches.length > 0) throw new SkewFoundError(report.mismatches.length, report.checked)
}
