/**
 * The served values, kept for the skew audit: a `Sink<ServedRecord>` (give it to the reader as
 * `servedLog`) that writes Parquet files `served-<start>-<n>.parquet` in the columns
 * `skewless audit --served` reads.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { writeParquet } from '@skewless/asof-join'
import type { Sink } from '@skewless/core'
import type { ServedRecord } from '@skewless/online-sink'
import { Bool, type DataType, Float64, Table, Utf8, vectorFromArray } from 'apache-arrow'

/** Options of `parquetServedLog`. */
export interface ServedLogOptions {
  /** Directory of the files (created). */
  dir: string
  /** A file is written once this many values are buffered. @default 50_000 */
  maxRows?: number
  /** And at least this often while values are buffered (ms; the timer never keeps the process alive). @default 10_000 */
  intervalMs?: number
  /** Told about a background write that failed (the values stay buffered and are written by the next flush). @default console.error */
  onError?: (err: unknown) => void
}

/** The sink, plus the files it wrote. */
export interface ParquetServedLog extends Sink<ServedRecord> {
  /** Paths of the files written so far, oldest first. */
  readonly files: readonly string[]
}

/** A Parquet served-value log. `close()` writes what is buffered. */
export async function parquetServedLog(options: ServedLogOptions): Promise<ParquetServedLog> {
  await mkdir(options.dir, { recursive: true })
  const maxRows = options.maxRows ?? 50_000
  const prefix = `served-${Date.now()}`
  const files: string[] = []
  let buffer: ServedRecord[] = []
  let writing: Promise<void> = Promise.resolve()
  let closed = false

  const writeOut = (): Promise<void> => {
    writing = writing.then(async () => {
      if (buffer.length === 0) return
      const rows = buffer
      buffer = []
      const file = join(options.dir, `${prefix}-${String(files.length).padStart(5, '0')}.parquet`)
      try {
        await writeParquet(servedTable(rows), file)
        files.push(file)
      } catch (err) {
        buffer = rows.concat(buffer) // keep them: nothing served is lost from the audit silently
        throw err
      }
    })
    return writing
  }
  const onError = options.onError ?? ((err: unknown) => console.error('served log:', err))
  const timer = setInterval(() => void writeOut().catch(onError), options.intervalMs ?? 10_000)
  timer.unref()

  return {
    files,
    write(batch) {
      if (closed) throw new Error('served log: write after close')
      buffer.push(...batch)
      if (buffer.length >= maxRows) return writeOut()
    },
    flush: () => writeOut(),
    async close() {
      if (closed) return writing
      closed = true
      clearInterval(timer)
      await writeOut()
    },
  }
}

/** Served values as an Arrow table: entity, feature, read_time, answered_time, event_time, value_*. */
export function servedTable(records: readonly ServedRecord[]): Table {
  const column = <T>(type: DataType, f: (r: ServedRecord) => T) => vectorFromArray(records.map(f), type)
  return new Table({
    entity: column(new Utf8(), (r) => r.entity),
    feature: column(new Utf8(), (r) => r.feature),
    read_time: column(new Float64(), (r) => r.readTime),
    answered_time: column(new Float64(), (r) => r.answeredTime ?? r.readTime),
    event_time: column(new Float64(), (r) => r.eventTime),
    value_double: column(new Float64(), (r) =>
      typeof r.value === 'number' ? r.value : typeof r.value === 'bigint' ? Number(r.value) : null,
    ),
    value_string: column(new Utf8(), (r) => (typeof r.value === 'string' ? r.value : null)),
    value_bool: column(new Bool(), (r) => (typeof r.value === 'boolean' ? r.value : null)),
  })
}
