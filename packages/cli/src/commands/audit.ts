/** `skewless audit <log> --served served.parquet`: every served value checked against the log; exit 1 on skew. */
import { type ServedValueRecord, skewAudit } from '@skewless/asof-join'
import type { FeatureValue } from '@skewless/core'
import type { Table } from 'apache-arrow'
import { discoverLog } from '../discover-log.js'
import { InputFileError, SkewFoundError } from '../errors.js'
import { iso, table } from '../format.js'
import { openLog } from '../open-log.js'
import { plain, readParquetTable } from '../read-table.js'
import type { CliIo } from '../types.js'

export interface AuditCommandOptions {
  served: string
  ttl?: Record<string, string>
  inFlight?: string
  json?: boolean
}

/** The first of `names` the table has. */
function pick(t: Table, names: readonly string[]): string | undefined {
  return names.find((n) => t.schema.fields.some((f) => f.name === n))
}

/**
 * Served values from a table: `entity`, `feature`, `read_time` (or `readTime`), optionally `event_time`
 * (or `eventTime`), and the value in `value` or in the log's typed `value_*` columns.
 */
export function servedRecords(t: Table, path: string): ServedValueRecord[] {
  const readCol = pick(t, ['read_time', 'readTime'])
  const eventCol = pick(t, ['event_time', 'eventTime'])
  const valueCols = ['value', 'value_double', 'value_int64', 'value_string', 'value_bool'].filter((c) =>
    pick(t, [c]),
  )
  const missing = [
    pick(t, ['entity']) ? undefined : 'entity',
    pick(t, ['feature']) ? undefined : 'feature',
    readCol ? undefined : 'read_time',
    valueCols.length > 0 ? undefined : 'value (or value_double/value_int64/value_string/value_bool)',
  ].filter((x) => x !== undefined)
  if (missing.length > 0) {
    throw new InputFileError(
      `served values ${path}: missing column(s) ${missing.join(', ')}; has ${t.schema.fields.map((f) => f.name).join(', ')}`,
    )
  }
  const out: ServedValueRecord[] = []
  const cols = {
    entity: t.getChild('entity'),
    feature: t.getChild('feature'),
    read: t.getChild(readCol as string),
    event: eventCol ? t.getChild(eventCol) : null,
    values: valueCols.map((c) => t.getChild(c)),
  }
  for (let i = 0; i < t.numRows; i++) {
    let value: unknown = null
    for (const v of cols.values) {
      const x = v?.get(i)
      if (x !== null && x !== undefined) {
        value = plain(x)
        break
      }
    }
    const ev = cols.event?.get(i)
    out.push({
      entity: String(cols.entity?.get(i)),
      feature: String(cols.feature?.get(i)),
      value: value as FeatureValue,
      eventTime: ev === null || ev === undefined ? null : (plain(ev) as number),
      readTime: plain(cols.read?.get(i)) as number,
    })
  }
  return out
}

export async function auditCommand(path: string, opts: AuditCommandOptions, io: CliIo): Promise<void> {
  const served = servedRecords(await readParquetTable(opts.served, 'served values'), opts.served)
  const found = await discoverLog(path)
  const log = await openLog(found)
  let report: Awaited<ReturnType<typeof skewAudit>>
  try {
    report = await skewAudit(served, log, {
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
