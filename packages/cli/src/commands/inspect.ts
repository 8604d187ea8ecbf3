/** `skewless inspect <log>`: what a log holds — definitions, partitions, files, rows, time ranges, bytes. */
import { stat } from 'node:fs/promises'
import { relative, sep } from 'node:path'
import { formatDuration } from '@skewless/freshness'
import { discoverLog } from '../discover-log.js'
import { bytes, definition, iso, table } from '../format.js'
import { openLog } from '../open-log.js'
import { readFooter } from '../parquet-meta.js'
import type { CliIo, LogFeature } from '../types.js'

/** One feature's part of the log. */
export interface FeatureSummary extends LogFeature {
  partitions: number
  files: number
  rows: number
  bytes: number
  minEventTime: number | null
  maxEventTime: number | null
  minAvailableTime: number | null
  maxAvailableTime: number | null
}

/** What `inspect --json` prints. */
export interface LogSummary {
  dir: string
  definitionsFrom: string
  features: FeatureSummary[]
  totals: { partitions: number; files: number; rows: number; bytes: number }
}

/** Read every committed file's footer (rows, time bounds) and size; files a compaction replaced are not counted. */
export async function summarizeLog(
  path: string,
  onFile?: (done: number, total: number) => void,
): Promise<LogSummary> {
  const found = await discoverLog(path)
  const log = await openLog(found, false, 0)
  let files: string[]
  try {
    files = await log.listFiles()
  } finally {
    await log.close()
  }
  const byName = new Map<string, FeatureSummary>()
  const partitions = new Map<string, Set<string>>()
  for (const f of found.features) {
    byName.set(f.name, {
      ...f,
      partitions: 0,
      files: 0,
      rows: 0,
      bytes: 0,
      minEventTime: null,
      maxEventTime: null,
      minAvailableTime: null,
      maxAvailableTime: null,
    })
    partitions.set(f.name, new Set())
  }
  let done = 0
  for (const file of files) {
    const parts = relative(found.dir, file).split(sep)
    // A partitioned log: <root>/partition=<n>/feature=<f>/date=<d>/…; a date holds files of every partition.
    if (found.partitions !== undefined) parts.shift()
    const [featureDir, dateDir] = parts
    const s = byName.get((featureDir ?? '').slice('feature='.length))
    if (s === undefined) continue
    const [{ rows, keyValue }, st] = await Promise.all([readFooter(file), stat(file)])
    s.files++
    s.rows += rows
    s.bytes += st.size
    partitions.get(s.name)?.add(dateDir ?? '')
    const num = (k: string) => (keyValue.has(k) ? Number(keyValue.get(k)) : null)
    s.minEventTime = min(s.minEventTime, num('skewless.min_event_time'))
    s.maxEventTime = max(s.maxEventTime, num('skewless.max_event_time'))
    s.minAvailableTime = min(s.minAvailableTime, num('skewless.min_available_time'))
    s.maxAvailableTime = max(s.maxAvailableTime, num('skewless.max_available_time'))
    onFile?.(++done, files.length)
  }
  const features = [...byName.values()]
  for (const f of features) f.partitions = partitions.get(f.name)?.size ?? 0
  const totals = { partitions: 0, files: 0, rows: 0, bytes: 0 }
  for (const f of features) {
    totals.partitions += f.partitions
    totals.files += f.files
    totals.rows += f.rows
    totals.bytes += f.bytes
  }
  return { dir: found.dir, definitionsFrom: found.source, features, totals }
}

const min = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b))
const max = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b))

/** Print the summary as text or JSON. */
export async function inspectCommand(path: string, opts: { json?: boolean }, io: CliIo): Promise<void> {
  const s = await summarizeLog(path)
  if (opts.json) {
    io.stdout(`${JSON.stringify(s, null, 2)}\n`)
    return
  }
  const t = s.totals
  io.stdout(`log          ${s.dir}\n`)
  io.stdout(
    `definitions  from the ${s.definitionsFrom === 'manifest' ? 'manifest' : "files' metadata (no manifest)"}\n`,
  )
  io.stdout(
    `totals       ${s.features.length} features, ${t.partitions} partitions, ${t.files} files, ${t.rows} rows, ${bytes(t.bytes)}\n\n`,
  )
  io.stdout(
    table(
      [
        'feature',
        'type',
        'definition',
        'ttl',
        'partitions',
        'files',
        'rows',
        'bytes',
        'event time from',
        'to',
        'available to',
      ],
      s.features.map((f) => [
        f.name,
        f.valueType,
        definition(f),
        typeof f.ttlMs === 'number' ? formatDuration(f.ttlMs) : '-',
        f.partitions,
        f.files,
        f.rows,
        bytes(f.bytes),
        iso(f.minEventTime ?? Number.NaN),
        iso(f.maxEventTime ?? Number.NaN),
        iso(f.maxAvailableTime ?? Number.NaN),
      ]),
    ),
  )
  // What each feature means and who owns it, when the definitions recorded it (one line each).
  const described = s.features.filter((f) => f.description || f.owner || (f.tags && f.tags.length > 0))
  if (described.length > 0) {
    io.stdout('\n')
    for (const f of described) {
      const about = [
        f.description,
        f.owner ? `owner ${f.owner}` : undefined,
        f.tags && f.tags.length > 0 ? `tags ${f.tags.join(', ')}` : undefined,
      ].filter((x) => x !== undefined)
      io.stdout(`${f.name}: ${about.join('; ')}\n`)
    }
  }
}
