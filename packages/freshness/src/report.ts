/**
 * `freshnessReport`: reads the offline log feature by feature, streaming over its scan batches
 * (never one object per record), and computes the streaming and batch age series defined in types.ts.
 *
 * Per feature: one scan for the bounds and the entities, then one scan per entity partition that
 * fills, per sample instant and entity, the newest eventTime that became its value first there — for
 * streaming, at the first sample at or after the record's availableTime; for batch, at the first
 * sample whose materialization instant is at or after its eventTime. A running maximum over the
 * samples then gives the value held at each one.
 */
import { AbortedError, InvalidArgumentError, toMs } from '@skewless/core'
import type { OfflineLog } from '@skewless/offline-log'
import { AgeHistogram } from './age-histogram.js'
import { firstAtOrAfter, sampleGrid } from './sample-grid.js'
import { ageColumns, entityHash, entityIndices } from './scan-columns.js'
import { SeriesBuilder } from './series-builder.js'
import { groupServed, servedSeries } from './served.js'
import type { FeatureFreshness, FreshnessOptions, FreshnessReport } from './types.js'

const DEFAULT_MEMORY = 256 * 1024 * 1024

interface Bounds {
  records: number
  minAvailable: number
  maxAvailable: number
  entities: Set<string>
  writeDelay: AgeHistogram
}

/** Compute the freshness report of `log` (see types.ts for the definitions). */
export async function freshnessReport(
  log: OfflineLog,
  options: FreshnessOptions = {},
): Promise<FreshnessReport> {
  const declared = Object.keys(log.featureTypes)
  const features = options.features ?? declared
  for (const f of features) {
    if (!declared.includes(f)) {
      throw new InvalidArgumentError(
        `freshness: freshnessReport: feature "${f}" is not declared by the log; declared: ${declared.join(', ')}`,
      )
    }
  }
  const batchEveryMs = toMs(options.batchEvery ?? '1h', 'freshnessReport: batchEvery')
  if (batchEveryMs <= 0)
    throw new InvalidArgumentError('freshness: freshnessReport: batchEvery must be > 0, e.g. "1h"')
  const samples = options.samples ?? 240
  if (!Number.isInteger(samples) || samples < 2) {
    throw new InvalidArgumentError(
      `freshness: freshnessReport: samples must be an integer >= 2, got ${samples}`,
    )
  }
  const memoryBytes = options.memoryBytes ?? DEFAULT_MEMORY
  if (!(memoryBytes > 0))
    throw new InvalidArgumentError(`freshness: freshnessReport: memoryBytes must be > 0, got ${memoryBytes}`)
  for (const [name, v] of [
    ['from', options.from],
    ['to', options.to],
  ] as const) {
    if (v !== undefined && !Number.isFinite(v)) {
      throw new InvalidArgumentError(
        `freshness: freshnessReport: ${name} must be a finite number of ms since epoch, got ${v}`,
      )
    }
  }
  // Checked before any scan when both are given (otherwise once the feature's bounds are known).
  if (options.from !== undefined && options.to !== undefined && options.to < options.from) {
    throw new InvalidArgumentError(
      `freshness: freshnessReport: to (${options.to}) must be >= from (${options.from})`,
    )
  }
  const progress = { scansDone: 0, scansTotal: features.length, feature: '', rows: 0 }
  const report = (feature: string) => {
    progress.feature = feature
    options.onProgress?.({ ...progress })
  }
  // The signal goes to the log too, so an abort also stops a scan between two of its files.
  const sig = options.signal === undefined ? {} : { signal: options.signal }
  const scanOf = (feature: string) =>
    log.scan(
      options.entities
        ? { features: [feature], entities: options.entities, ...sig }
        : { features: [feature], ...sig },
    )

  const servedByFeature = options.served === undefined ? undefined : groupServed(options.served, features)
  const out: FeatureFreshness[] = []
  for (const feature of features) {
    const bounds: Bounds = {
      records: 0,
      minAvailable: Number.POSITIVE_INFINITY,
      maxAvailable: Number.NEGATIVE_INFINITY,
      entities: new Set(),
      writeDelay: new AgeHistogram(),
    }
    for await (const batch of scanOf(feature)) {
      checkAbort(options.signal)
      const c = ageColumns(batch)
      const n = batch.numRows
      for (let i = 0; i < n; i++) {
        const av = c.availableTime[i] as number
        if (av < bounds.minAvailable) bounds.minAvailable = av
        if (av > bounds.maxAvailable) bounds.maxAvailable = av
        bounds.writeDelay.record(av - (c.eventTime[i] as number))
      }
      // A dictionary may hold values no row of this (filtered) batch uses: add only the used ones.
      const { codes, values } = c.entity
      if (codes) {
        const used = new Uint8Array(values.length)
        for (let i = 0; i < n; i++) used[codes[i] as number] = 1
        for (let v = 0; v < values.length; v++) if (used[v] === 1) bounds.entities.add(values[v] as string)
      } else for (let i = 0; i < n; i++) bounds.entities.add(values[i] as string)
      bounds.records += n
      progress.rows += n
      report(feature)
    }
    progress.scansDone++
    if (bounds.records === 0) {
      report(feature)
      continue
    }
    const from = options.from ?? bounds.minAvailable
    const to = options.to ?? bounds.maxAvailable
    if (!(to >= from))
      throw new InvalidArgumentError(`freshness: freshnessReport: to (${to}) must be >= from (${from})`)
    const grid = sampleGrid(from, to, samples, batchEveryMs)
    const s = grid.times.length
    const partitions = Math.max(1, Math.ceil((bounds.entities.size * s * 16) / memoryBytes))
    progress.scansTotal += partitions
    report(feature)
    const streaming = new SeriesBuilder(grid.times)
    const batch = new SeriesBuilder(grid.times)
    for (let p = 0; p < partitions; p++) {
      const index = new Map<string, number>()
      for (const e of bounds.entities)
        if (partitions === 1 || entityHash(e) % partitions === p) index.set(e, index.size)
      const newestStreaming = new Float64Array(index.size * s).fill(Number.NEGATIVE_INFINITY)
      const newestBatch = new Float64Array(index.size * s).fill(Number.NEGATIVE_INFINITY)
      const entities = index.size
      for await (const rb of scanOf(feature)) {
        checkAbort(options.signal)
        const c = ageColumns(rb)
        const n = rb.numRows
        const ent = entityIndices(c.entity, n, index)
        for (let i = 0; i < n; i++) {
          const e = ent[i] as number
          if (e < 0) continue
          const ev = c.eventTime[i] as number
          const ks = firstAtOrAfter(grid.times, c.availableTime[i] as number)
          if (ks < s && ev > (newestStreaming[ks * entities + e] as number))
            newestStreaming[ks * entities + e] = ev
          const kb = firstAtOrAfter(grid.materializedAt, ev)
          if (kb < s && ev > (newestBatch[kb * entities + e] as number)) newestBatch[kb * entities + e] = ev
        }
        progress.rows += n
        report(feature)
      }
      streaming.addEntities(newestStreaming, index.size)
      batch.addEntities(newestBatch, index.size)
      progress.scansDone++
      report(feature)
    }
    const served = servedByFeature?.get(feature)
    out.push({
      ...(served === undefined ? {} : { served: servedSeries(served, grid.times) }),
      feature,
      records: bounds.records,
      entities: bounds.entities.size,
      times: grid.times,
      streaming: streaming.build(),
      batch: batch.build(),
      writeDelay: bounds.writeDelay.stats(),
      partitions,
    })
  }
  return { batchEveryMs, features: out }
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError('freshness: freshnessReport: aborted', { cause: signal.reason })
}
