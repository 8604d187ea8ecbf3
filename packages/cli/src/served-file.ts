/** Served values read from a Parquet file (what the online reader served), for `audit` and `freshness --served`. */
import type { ServedValueRecord } from '@skewless/asof-join'
import type { FeatureValue } from '@skewless/core'
import type { Table } from 'apache-arrow'
import { InputFileError } from './errors.js'
import { plain } from './read-table.js'

/** The first of `names` the table has. */
function pick(t: Table, names: readonly string[]): string | undefined {
  return names.find((n) => t.schema.fields.some((f) => f.name === n))
}

/**
 * Served values from a table: `entity`, `feature`, `read_time` (or `readTime`), optionally `event_time`
 * (or `eventTime`) and `answered_time` (or `answeredTime`: when the store's answer arrived, so the
 * audit checks the whole read interval), and the value in `value` or in the log's typed `value_*` columns.
 */
export function servedRecords(t: Table, path: string): ServedValueRecord[] {
  const readCol = pick(t, ['read_time', 'readTime'])
  const eventCol = pick(t, ['event_time', 'eventTime'])
  const answeredCol = pick(t, ['answered_time', 'answeredTime'])
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
    answered: answeredCol ? t.getChild(answeredCol) : null,
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
    const answered = cols.answered?.get(i)
    out.push({
      ...(answered === null || answered === undefined ? {} : { answeredTime: plain(answered) as number }),
      entity: String(cols.entity?.get(i)),
      feature: String(cols.feature?.get(i)),
      value: value as FeatureValue,
      eventTime: ev === null || ev === undefined ? null : (plain(ev) as number),
      readTime: plain(cols.read?.get(i)) as number,
    })
  }
  return out
}
