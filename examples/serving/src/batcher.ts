/**
 * Request coalescing: feature requests that arrive within a short window share one read of the
 * online store (one round trip per shard), however many HTTP requests they came from.
 */
import type { FeatureVector, OnlineReader } from '@skewless/online-sink'

/** Options of `requestBatcher`. */
export interface BatcherOptions {
  /** The reader every batch goes through (its `servedLog` sees each batch's values). */
  reader: OnlineReader
  /** How long the first request of a batch waits for others (ms). @default 2 */
  windowMs?: number
  /** A batch is sent at once when it holds this many distinct entities. @default 1000 */
  maxEntities?: number
}

/** Counters of a batcher. */
export interface BatcherMetrics {
  /** Requests answered or failed. */
  requests: number
  /** Reads of the store (one per batch). */
  batches: number
  /** Distinct entities read, summed over batches. */
  entitiesRead: number
}

interface Pending {
  entities: readonly string[]
  features: readonly string[]
  resolve(v: FeatureVector[]): void
  reject(e: unknown): void
}

/** A coalescing front of `reader.get`. */
export interface RequestBatcher {
  /** The vectors of `entities` (in order) with exactly `features`, read in the next batch. */
  get(entities: readonly string[], features: readonly string[]): Promise<FeatureVector[]>
  metrics(): BatcherMetrics
  /** Sends what is pending now and waits for every batch in flight. */
  drain(): Promise<void>
}

export function requestBatcher(options: BatcherOptions): RequestBatcher {
  const windowMs = options.windowMs ?? 2
  const maxEntities = options.maxEntities ?? 1000
  let pending: Pending[] = []
  let pendingEntities = new Set<string>()
  let timer: NodeJS.Timeout | undefined
  const inFlight = new Set<Promise<void>>()
  const m: BatcherMetrics = { requests: 0, batches: 0, entitiesRead: 0 }

  function send(): void {
    if (timer) clearTimeout(timer)
    timer = undefined
    const batch = pending
    const entities = [...pendingEntities]
    pending = []
    pendingEntities = new Set()
    if (batch.length === 0) return
    const features = [...new Set(batch.flatMap((p) => p.features))]
    m.batches++
    m.entitiesRead += entities.length
    const p = options.reader.get(entities, features).then(
      (vectors) => {
        const byEntity = new Map(vectors.map((v) => [v.entity, v]))
        for (const req of batch) {
          m.requests++
          req.resolve(
            req.entities.map((e) => {
              const v = byEntity.get(e)
              const values: FeatureVector['values'] = Object.create(null)
              for (const f of req.features) values[f] = v?.values[f] ?? null
              return { entity: e, values }
            }),
          )
        }
      },
      (err) => {
        for (const req of batch) {
          m.requests++
          req.reject(err)
        }
      },
    )
    const tracked = p.finally(() => inFlight.delete(tracked))
    inFlight.add(tracked)
  }

  return {
    get(entities, features) {
      return new Promise<FeatureVector[]>((resolve, reject) => {
        pending.push({ entities, features, resolve, reject })
        for (const e of entities) pendingEntities.add(e)
        if (pendingEntities.size >= maxEntities) send()
        else timer ??= setTimeout(send, windowMs)
      })
    },
    metrics: () => ({ ...m }),
    async drain() {
      send()
      await Promise.all([...inFlight])
    },
  }
}
