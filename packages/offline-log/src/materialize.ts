/**
 * Materialize: load an online store from the log — the state the log says the store held at an
 * instant, written through a sink (an online sink). After a backfill, this makes the store serve
 * what the training data says it served, before a live pipeline takes over.
 */
import { type FeatureUpdate, InvalidArgumentError, InvalidDefinitionError, type Sink } from '@skewless/core'
import { progressReporter } from '@skewless/core/adapter'
import { throwIfAborted } from '@skewless/core/internal'
import { checkInstant } from './memory-log.js'
import type { MaterializeOptions, MaterializeResult } from './types.js'

/**
 * Write `stateAt(at, { by: 'available' })` of `features` to `sink` as `FeatureUpdate`s with their
 * original eventTime, version (and tileStart: an additive feature's tiles are written one by one),
 * in batches of `batchSize`, then flush the sink. With compare-and-set in the store, a value a
 * live pipeline already wrote is newer and wins; the materialized one comes back `stale`.
 * The sink is flushed, never closed. Do not give it a downstream log: the log has these records.
 * @throws InvalidDefinitionError without a log or sink; InvalidArgumentError for a bad `at` or batch size;
 *   AbortedError when `signal` aborts (batches written before stay written; the sink is not flushed).
 */
export async function materialize(options: MaterializeOptions): Promise<MaterializeResult> {
  const { log, sink, at, features, entities } = options
  if (!log || typeof log.stateAt !== 'function') {
    throw new InvalidDefinitionError('offline-log: materialize needs `log`: an OfflineLog')
  }
  if (!sink || typeof (sink as Sink<FeatureUpdate>).write !== 'function') {
    throw new InvalidDefinitionError(
      'offline-log: materialize needs `sink`: where the values go (an online sink)',
    )
  }
  checkInstant(at, options.allowEarlyTimes === true)
  const batchSize = options.batchSize ?? 1000
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new InvalidArgumentError(
      `offline-log materialize: batchSize must be an integer >= 1, got ${String(batchSize)}`,
    )
  }
  const signal = options.signal
  throwIfAborted(signal, 'materialize')
  const state = await log.stateAt(at, {
    features,
    by: 'available',
    ...(signal === undefined ? {} : { signal }),
    ...(entities === undefined ? {} : { entities }),
    ...(options.allowEarlyTimes === true ? { allowEarlyTimes: true } : {}),
  })
  const progress = progressReporter(options.onProgress, 'write', 'record', state.length)
  for (let i = 0; i < state.length; i += batchSize) {
    throwIfAborted(signal, 'materialize')
    const batch: FeatureUpdate[] = state.slice(i, i + batchSize).map((w) => {
      const u: FeatureUpdate = {
        entity: w.entity,
        feature: w.feature,
        value: w.value,
        eventTime: w.eventTime,
        version: w.version,
      }
      if (w.tileStart !== undefined) u.tileStart = w.tileStart
      return u
    })
    const r = sink.write(batch)
    if (r) await r
    progress.add(batch.length)
  }
  await sink.flush()
  progress.finish()
  return { records: state.length }
}
