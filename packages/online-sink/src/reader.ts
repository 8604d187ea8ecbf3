/**
 * The online reader: one `store.read` per `get`, then TTL filtering and the additive sum, done here
 * once so every adapter serves identical vectors.
 */
import {
  type Clock,
  InvalidArgumentError,
  InvalidDefinitionError,
  type Sink,
  systemClock,
  toEntityKey,
  windowAt,
} from '@skewless/core'
import { raceAbort, throwIfAborted } from '@skewless/core/internal'
import { type ResolvedFeatureConfig, resolveFeatures } from './feature-config.js'
import { readerTelemetry } from './telemetry.js'
import type {
  FeatureVector,
  OnlineReader,
  OnlineReaderMetrics,
  OnlineReaderOptions,
  ServedRecord,
  ServedValue,
  StoredEntry,
  StoredTile,
} from './types.js'

/**
 * Create a reader.
 *
 * Served values:
 * - `cas` / `upsert`: the stored value, or `null` when missing or older than `ttlMs` at the read time
 *   (`readTime − eventTime > ttlMs`; exactly `ttlMs` old is still served).
 * - `additive`: the sum of the tiles whose `tileStart` lies in `windowAt(readTime, window)`, with
 *   the greatest event time among them. When the entity has tiles but none in the window the value
 *   has decayed: `0`, with `eventTime` = the instant the newest tile left the window. `null` only
 *   when the entity has no tile at all (never written, or physically expired). The TTL applies too.
 *
 * `readTime` is taken when the request is sent, `answeredTime` when the store answered: the store
 * served its state at some instant in between (docs/consistency.md, "Reads during a write").
 */
export function onlineReader(options: OnlineReaderOptions): OnlineReader {
  if (!options || typeof options.store?.read !== 'function') {
    throw new InvalidDefinitionError(
      'online-sink: onlineReader needs a `store` (an OnlineStore, e.g. memoryStore())',
    )
  }
  const store = options.store
  const byName = resolveFeatures(options.features, store, 'onlineReader')
  const clock: Clock = options.clock ?? systemClock
  const servedLog: Sink<ServedRecord> | undefined = options.servedLog
  const telemetry = readerTelemetry(store.name, options)
  const counts: OnlineReaderMetrics = { gets: 0, vectors: 0, values: 0, nulls: 0, failures: 0 }

  async function get(
    entityKeys: readonly (string | number | bigint)[],
    features: readonly string[],
    signal: AbortSignal | undefined,
  ): Promise<FeatureVector[]> {
    throwIfAborted(signal, 'onlineReader.get')
    // The pipeline keys `42` as '42': the same rule here, so a numeric key finds its values.
    const entities: string[] = new Array(entityKeys.length)
    for (let i = 0; i < entityKeys.length; i++) {
      entities[i] = toEntityKey(entityKeys[i], `onlineReader.get: entities[${i}]`)
    }
    const cfgs: ResolvedFeatureConfig[] = new Array(features.length)
    for (let j = 0; j < features.length; j++) {
      const f = byName.get(features[j] as string)
      if (f === undefined) {
        throw new InvalidArgumentError(
          `online-sink onlineReader.get: feature '${features[j]}' is not in the reader's features; add an OnlineFeatureConfig for it`,
        )
      }
      cfgs[j] = f
    }
    if (entities.length === 0 || cfgs.length === 0)
      return entities.map((entity) => ({ entity, values: Object.create(null) }))
    // The store answers with its state at some instant between the request and the answer: the
    // request's time is a lower bound of it, so a value the log says was available by then was
    // necessarily seen. The skew audit explains the other way round with `answeredTime`.
    throwIfAborted(signal, 'onlineReader.get')
    const readTime = clock.now()
    const started = performance.now()
    const raw = await raceAbort(store.read(entities, cfgs), signal, 'onlineReader.get')
    const answeredTime = clock.now()
    const out: FeatureVector[] = new Array(entities.length)
    const served: ServedRecord[] | undefined = servedLog ? [] : undefined
    let nulls = 0
    for (let i = 0; i < entities.length; i++) {
      const entity = entities[i] as string
      const row = raw[i]
      // No prototype: a feature named `__proto__` (or `constructor`) is then a plain own key.
      const values: Record<string, ServedValue | null> = Object.create(null)
      for (let j = 0; j < cfgs.length; j++) {
        const f = cfgs[j] as ResolvedFeatureConfig
        const v = serve(row?.[j] ?? { kind: 'missing' }, f, readTime)
        values[f.name] = v
        if (v === null) nulls++
        served?.push({
          entity,
          feature: f.name,
          value: v === null ? null : v.value,
          eventTime: v === null ? null : v.eventTime,
          readTime,
          answeredTime,
        })
      }
      out[i] = { entity, values }
    }
    if (servedLog && served) {
      const r = servedLog.write(served)
      if (r) await r
    }
    const n = entities.length * cfgs.length
    telemetry.get(entities.length, n - nulls, nulls, performance.now() - started)
    counts.vectors += entities.length
    counts.values += n - nulls
    counts.nulls += nulls
    return out
  }

  return {
    async get(entityKeys, features, call) {
      try {
        const out = await get(entityKeys, features, call?.signal)
        counts.gets++
        return out
      } catch (e) {
        counts.failures++
        throw e
      }
    },
    metrics: () => ({ ...counts }),
  }
}

/** The value served for one raw entry at `readTime`, or `null`. */
export function serve(e: StoredEntry, f: ResolvedFeatureConfig, readTime: number): ServedValue | null {
  let value: ServedValue | null = null
  if (e.kind === 'value') {
    value = { value: e.stored.value, eventTime: e.stored.eventTime, ageMs: readTime - e.stored.eventTime }
  } else if (e.kind === 'tiles') {
    value = sumTiles(e.tiles, f, readTime)
  }
  if (value !== null && f.ttlMs !== undefined && value.ageMs > f.ttlMs) return null
  return value
}

function sumTiles(
  tiles: readonly StoredTile[],
  f: ResolvedFeatureConfig,
  readTime: number,
): ServedValue | null {
  if (tiles.length === 0) return null
  const spec = f.window
  if (spec === undefined || (spec.kind !== 'tumbling' && spec.kind !== 'hopping')) return null
  const w = windowAt(readTime, spec)
  let sum = 0
  let inWindow = 0
  let eventTime = Number.NEGATIVE_INFINITY
  let decayedAt = Number.NEGATIVE_INFINITY
  for (let k = 0; k < tiles.length; k++) {
    const t = tiles[k] as StoredTile
    if (t.tileStart >= w.start && t.tileStart < w.end) {
      inWindow++
      if (typeof t.value === 'number') sum += t.value
      if (t.eventTime > eventTime) eventTime = t.eventTime
    } else if (t.tileStart < w.start && t.tileStart + spec.sizeMs > decayedAt)
      decayedAt = t.tileStart + spec.sizeMs
  }
  if (inWindow === 0) {
    // Only tiles of future windows (a reader clock behind the writers'): nothing has happened yet.
    if (decayedAt === Number.NEGATIVE_INFINITY) decayedAt = readTime
    return { value: 0, eventTime: decayedAt, ageMs: readTime - decayedAt }
  }
  return { value: sum, eventTime, ageMs: readTime - eventTime }
}
