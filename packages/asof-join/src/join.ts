import { ClosedError, InvalidArgumentError, type ValueType } from '@skewless/core'
import { type ProgressReporter, progressReporter, VALUE_TYPES } from '@skewless/core/adapter'
import { throwIfAborted } from '@skewless/core/internal'
import type { OfflineLog } from '@skewless/offline-log'
import { type Data, type RecordBatch, Table } from 'apache-arrow'
import { isNull, stringReader } from './arrow-read.js'
import { entityPartition } from './entity-partition.js'
import { InvalidOptionError, LogClosedError, MissingFeatureError } from './errors.js'
import { buildLabelIndex } from './label-index.js'
import { type PreparedLabels, prepareLabels } from './labels.js'
import { withLogDefinitions } from './log-definitions.js'
import { LogEntityMatcher } from './log-entities.js'
import { LogReader } from './log-reader.js'
import { buildTable, createOutput, type JoinOutput } from './output.js'
import { PartitionJoin } from './partition-join.js'
import { type ResolvedFeature, resolveFeatures, VALUE_COLUMNS, valueKind } from './resolve-features.js'
import { joinTelemetry } from './telemetry.js'
import { TileJoin } from './tile-join.js'
import type { AsOfJoinOptions, Labels, LogInput } from './types.js'

/** The value type of each of the log's VALUE_COLUMNS, which follow core's VALUE_TYPES order. */
const TYPES = VALUE_TYPES

interface Plan {
  labels: PreparedLabels
  /** How Int64 output columns are given (`AsOfJoinOptions.int64`). */
  int64: 'number' | 'bigint'
  features: ResolvedFeature[]
  out: JoinOutput
  partitions: Uint8Array[] | undefined
  makeReader(): LogReader
  makePartition(inPartition: Uint8Array | undefined, sortedInput?: boolean): PartitionJoins
}

/**
 * The joins of one partition: the kernel for whole-value features and the tile join for additive
 * tile features, each absent when no requested feature needs it.
 */
class PartitionJoins {
  constructor(
    readonly kernel: PartitionJoin | undefined,
    readonly tiles: TileJoin | undefined,
    private readonly kernelOut: JoinOutput,
    private readonly tileOut: JoinOutput,
  ) {}

  finish(): void {
    this.kernel?.finish(this.kernelOut)
    this.tiles?.finish(this.tileOut.features)
  }

  dispose(): void {
    this.kernel?.dispose()
  }
}

function plan(labels: Labels, options: AsOfJoinOptions, typeOf: (f: ResolvedFeature) => ValueType): Plan {
  const features = resolveFeatures(options)
  const by = options.by ?? 'available'
  if (by !== 'available' && by !== 'event') {
    throw new InvalidOptionError('by', `options.by must be 'available' or 'event', got '${String(by)}'`)
  }
  const inclusive = options.inclusive ?? true
  if (inclusive !== true && inclusive !== false) {
    throw new InvalidOptionError(
      'inclusive',
      `options.inclusive must be true (<=) or false (<), got ${typeof inclusive === 'string' ? `'${inclusive}'` : String(inclusive)}`,
    )
  }
  const count = options.partitions ?? 1
  if (!Number.isInteger(count) || count < 1) {
    throw new InvalidOptionError('partitions', `options.partitions must be an integer >= 1, got ${count}`)
  }
  const entityColumn = options.entityColumn ?? 'entity'
  const prepared = prepareLabels(
    labels,
    entityColumn,
    options.timeColumn ?? 'time',
    options.allowEarlyTimes === true,
  )
  for (const f of features) {
    if (f.type === undefined) {
      f.type = typeOf(f)
      f.kind = valueKind(f.type)
    }
    if (f.window !== undefined && f.type !== 'double' && f.type !== 'int64') {
      throw new InvalidArgumentError(
        `asof-join: feature '${f.name}' is requested with a window (a tile feature) but its type is ${f.type}: tiles are summed, so only double and int64 tile features exist`,
      )
    }
  }
  const numEntities = prepared.numEntities
  let partitions: Uint8Array[] | undefined
  if (count > 1) {
    partitions = Array.from({ length: count }, () => new Uint8Array(numEntities))
    for (let c = 0; c < numEntities; c++) {
      // Same hash as entityPartition: FNV-1a of the key's UTF-8 string.
      const p = prepared.strings
        ? prepared.strings.hash(c) % count
        : entityPartition((prepared.ints as number[])[c] as number, count)
      ;(partitions[p] as Uint8Array)[c] = 1
    }
  }
  const int64 = options.int64 ?? 'bigint'
  if (int64 !== 'number' && int64 !== 'bigint') {
    throw new InvalidOptionError('int64', `options.int64 must be 'number' or 'bigint', got ${String(int64)}`)
  }
  const workers = options.workers ?? (prepared.length >= 65_536 ? 1 : 0)
  if (workers !== 0 && workers !== 1) {
    throw new InvalidOptionError('workers', `options.workers must be 0 or 1, got ${String(workers)}`)
  }
  const valueFeatures = features.filter((f) => f.window === undefined)
  const tileFeatures = features.filter((f) => f.window !== undefined)
  // Tile features are joined on the main thread; the worker applies whole values of every type.
  const parallel = workers === 1 && typeof SharedArrayBuffer === 'function' && valueFeatures.length > 0
  const matcher = new LogEntityMatcher(prepared, entityColumn)
  const out = createOutput(prepared.length, features)
  const kernelOut = {
    strings: out.strings,
    features: out.features.filter((_, i) => features[i]?.window === undefined),
  }
  const tileOut = {
    strings: out.strings,
    features: out.features.filter((_, i) => features[i]?.window !== undefined),
  }
  return {
    int64,
    labels: prepared,
    features,
    out,
    partitions,
    makeReader: () => new LogReader(features, matcher, by, kernelOut),
    makePartition: (inPartition, sortedInput) => {
      const index = buildLabelIndex(prepared.codes, prepared.times, numEntities, inPartition)
      const byAvailable = by === 'available'
      return new PartitionJoins(
        valueFeatures.length > 0
          ? new PartitionJoin(index, valueFeatures, inclusive, byAvailable, sortedInput, parallel)
          : undefined,
        tileFeatures.length > 0 ? new TileJoin(index, tileFeatures, inclusive, byAvailable) : undefined,
        kernelOut,
        tileOut,
      )
    },
  }
}

function inferType(table: Table, f: ResolvedFeature): ValueType {
  const present = VALUE_COLUMNS.map((c) => table.schema.fields.some((x) => x.name === c))
  if (present.filter(Boolean).length === 1) return TYPES[present.indexOf(true)] as ValueType
  for (const batch of table.batches) {
    const feature = batch.getChild('feature')
    if (!feature) return 'double'
    const cols = VALUE_COLUMNS.map((c) => batch.getChild(c)?.data[0] as Data | undefined)
    for (let i = 0; i < batch.numRows; i++) {
      if (feature.get(i) !== f.name) continue
      for (let k = 0; k < cols.length; k++) {
        const d = cols[k]
        if (d && !isNull(d, i)) return TYPES[k] as ValueType
      }
    }
  }
  return 'double'
}

/**
 * As-of join against an Arrow table of log records, synchronously. See `asOfJoin`.
 * @throws MissingColumnError, ColumnTypeError, InvalidTimeError, EntityTypeMismatchError,
 * UnsupportedRecordError (each names the column), InvalidArgumentError for bad options.
 */
export function asOfJoinTable(labels: Labels, log: Table, options: AsOfJoinOptions): Table {
  if (!(log instanceof Table))
    throw new InvalidArgumentError('asof-join: asOfJoinTable needs an Arrow Table log')
  const p = plan(labels, options, (f) => inferType(log, f))
  for (const part of p.partitions ?? [undefined]) {
    const join = p.makePartition(part)
    try {
      const reader = p.makeReader()
      for (const batch of log.batches) reader.read(batch, join.kernel, join.tiles)
      const missing = reader.missingFeature()
      if (missing !== undefined) throw new MissingFeatureError(missing, featuresOf(log))
      join.finish()
    } finally {
      join.dispose()
    }
  }
  return buildTable(p.labels, p.features, p.out, p.int64)
}

/** Up to 20 distinct names in a table log's `feature` column, for the message of a missing feature. */
function featuresOf(log: Table): string[] {
  const names = new Set<string>()
  for (const batch of log.batches) {
    const d = batch.getChild('feature')?.data[0] as Data | undefined
    if (d === undefined) continue
    const read = stringReader(d)
    for (let i = 0; i < d.length && names.size < 20; i++) {
      const s = read(i)
      if (s !== null) names.add(s)
    }
  }
  return [...names]
}

function isOfflineLog(log: LogInput): log is OfflineLog {
  return (
    typeof (log as OfflineLog).scan === 'function' && typeof (log as OfflineLog).featureTypes === 'object'
  )
}

/**
 * Point-in-time join of `labels` against the offline log: one output row per label row, in input
 * order, with all label columns, then per feature its value (and optionally `__event_time`,
 * `__age_ms`). See the module header of `types.ts` for the exact semantics and tie-breaking.
 * An `OfflineLog` is read with `scan` (bounded to eventTime <= the last label time), one batch at a
 * time, once per partition.
 */
export async function asOfJoin(labels: Labels, log: LogInput, options: AsOfJoinOptions): Promise<Table> {
  const started = performance.now()
  throwIfAborted(options?.signal, 'asOfJoin')
  const progress = progressReporter(options?.onProgress, 'scan', 'record')
  const read = { records: 0 }
  const out = await joinLog(labels, log, options, progress, read)
  progress.finish()
  joinTelemetry(options).join(out.numRows, read.records, performance.now() - started)
  return out
}

async function joinLog(
  labels: Labels,
  log: LogInput,
  options: AsOfJoinOptions,
  progress: ProgressReporter,
  read: { records: number },
): Promise<Table> {
  if (log instanceof Table) {
    read.records = log.numRows
    return asOfJoinTable(labels, log, options)
  }
  if (!isOfflineLog(log)) {
    throw new InvalidArgumentError(
      'asof-join: log must be an OfflineLog (with scan and featureTypes) or an Arrow Table',
    )
  }
  const p = plan(labels, await withLogDefinitions(log, options), (f) => {
    const t = log.featureTypes[f.name]
    if (t === undefined) {
      throw new InvalidArgumentError(
        `asof-join: feature '${f.name}' is not declared in the log (declared: ${Object.keys(log.featureTypes).join(', ')})`,
      )
    }
    return t
  })
  let maxT = Number.NEGATIVE_INFINITY
  for (const t of p.labels.times) if (t > maxT) maxT = t
  if (p.labels.length === 0) return buildTable(p.labels, p.features, p.out, p.int64)
  const names = p.features.map((f) => f.name)
  const signal = options.signal
  for (const part of p.partitions ?? [undefined]) {
    throwIfAborted(signal, 'asOfJoin')
    // Sorted segments: each batch is grouped by entity, so the kernel skips its locality staging.
    const join = p.makePartition(part, log.capabilities?.sortedSegments === true)
    try {
      const reader = p.makeReader()
      // Records with eventTime > the last label time can never be chosen: let the log skip them.
      const batches = log.scan({
        features: names,
        by: 'event',
        to: Math.floor(maxT) + 1,
        ...(signal === undefined ? {} : { signal }),
      })
      try {
        for await (const batch of batches) {
          // Also checked here, for a log that does not check the signal itself; leaving the loop
          // returns the scan's iterator (its files are released) and `dispose` ends the worker.
          throwIfAborted(signal, 'asOfJoin')
          reader.read(batch as RecordBatch, join.kernel, join.tiles)
          read.records += batch.numRows
          progress.add(batch.numRows)
        }
      } catch (cause) {
        if (cause instanceof ClosedError) throw new LogClosedError({ cause })
        throw cause
      }
      join.finish()
    } finally {
      join.dispose()
    }
  }
  return buildTable(p.labels, p.features, p.out, p.int64)
}
