/**
 * `featureStore`: the definitions, an online store and an offline log in one object. Each method is
 * a thin composition of the packages below, configured from the definitions once.
 */
import { asOfJoin, type FeatureRequest, skewAudit } from '@skewless/asof-join'
import {
  AbortedError,
  type AbortOptions,
  type CheckpointData,
  ClosedError,
  InvalidArgumentError,
  InvalidDefinitionError,
  type ResumableSource,
  type Source,
  systemClock,
  toEntityKey,
} from '@skewless/core'
import { backfill, materialize, type OfflineLog } from '@skewless/offline-log'
import { type OnlineStore, onlineFeatures, onlineReader, onlineSink } from '@skewless/online-sink'
import { UnsupportedOperationError } from './errors.js'
import { type IngestContext, runIngest } from './ingest.js'
import { compactable } from './log-handle.js'
import type { EntityKey, FeatureStore, FeatureStoreOptions, TypedFeatureVector } from './types.js'

/**
 * Build a feature store. Store and log given as factories are created here (and closed by
 * `close()`); instances stay the caller's.
 * @throws InvalidDefinitionError without definitions, a store or a log.
 */
export async function featureStore<E, K extends string>(
  options: FeatureStoreOptions<E, K>,
): Promise<FeatureStore<E, K>> {
  const group = options?.features
  if (!group || typeof group.describe !== 'function') {
    throw new InvalidDefinitionError(
      'feature-store: featureStore needs `features`: the result of defineFeatures(...)',
    )
  }
  if (!options.online)
    throw new InvalidDefinitionError(
      'feature-store: featureStore needs `online`: an OnlineStore or a factory',
    )
  if (!options.offline)
    throw new InvalidDefinitionError(
      'feature-store: featureStore needs `offline`: an OfflineLog or a factory',
    )
  const infos = group.describe()
  const names = infos.map((i) => i.name) as K[]
  const created: { close(): Promise<void> }[] = []
  const online: OnlineStore =
    typeof options.online === 'function' ? await own(options.online(), created) : options.online
  let offline: OfflineLog
  try {
    offline =
      typeof options.offline === 'function'
        ? await own(options.offline(group.describe()), created)
        : options.offline
  } catch (err) {
    // The store made a moment ago would otherwise keep its connections.
    for (const c of created) await c.close().catch(() => undefined)
    throw err
  }
  const configs = onlineFeatures(infos)
  const clock = options.clock ?? systemClock
  const reader = onlineReader({
    store: online,
    features: configs,
    clock,
    ...(options.servedLog === undefined ? {} : { servedLog: options.servedLog }),
  })
  const ctx: IngestContext<E> = { features: group, online, offline, configs, options }
  const stop = new AbortController()
  let running: Promise<unknown> | undefined
  let closing: Promise<void> | undefined
  // The operator state the last ingest or backfill ended with: the stream goes on across calls.
  let carried: CheckpointData | undefined

  const checkOpen = (what: string) => {
    if (closing) throw new ClosedError(`featureStore (${what})`, 'feature-store')
  }
  const checkSignal = (signal: AbortSignal | undefined, what: string) => {
    if (signal?.aborted)
      throw new AbortedError(`feature-store: featureStore.${what} was aborted`, { cause: signal.reason })
  }
  /** One writer at a time: two pipelines over the same features would each own the keyed state. */
  async function exclusive<T>(what: string, fn: () => Promise<T>): Promise<T> {
    checkOpen(what)
    if (running) {
      throw new InvalidArgumentError(
        `feature-store: featureStore.${what}: an ingest or backfill is running; await it (or abort its signal) first`,
      )
    }
    const p = fn()
    running = p
    try {
      return await p
    } finally {
      running = undefined
    }
  }
  const linked = (signal: AbortSignal | undefined) =>
    signal === undefined ? stop.signal : AbortSignal.any([stop.signal, signal])

  const fs: FeatureStore<E, K> = {
    names,
    online,
    offline,
    ingest: (source: Source<E> | ResumableSource<E>, call = {}) =>
      exclusive('ingest', async () => {
        const r = await runIngest(ctx, source, linked(call.signal), call, carried)
        carried = r.checkpoint
        return r
      }),
    backfill: (source, call = {}) =>
      exclusive('backfill', async () => {
        const r = await backfill<E>({
          source,
          features: group,
          log: offline,
          signal: linked(call.signal),
          ...(options.watermark === undefined ? {} : { watermark: options.watermark }),
          ...(options.lateEvents === undefined ? {} : { lateEvents: options.lateEvents }),
          ...(options.deadLetters === undefined ? {} : { deadLetters: options.deadLetters }),
          ...(call.availabilityDelay === undefined ? {} : { availabilityDelay: call.availabilityDelay }),
          ...(carried === undefined ? {} : { checkpoint: carried }),
        })
        carried = r.checkpoint
        return r
      }),
    async materialize(call = {}) {
      checkOpen('materialize')
      checkSignal(call.signal, 'materialize')
      // changelog: false — the log already holds these values; recording them again would log them twice.
      const sink = onlineSink({ store: online, features: configs, clock, changelog: false })
      try {
        return await materialize({
          log: offline,
          sink,
          ...(call.signal === undefined ? {} : { signal: call.signal }),
          at: call.at ?? clock.now(),
          features: names,
          ...(call.entities === undefined
            ? {}
            : { entities: call.entities.map((e, i) => toEntityKey(e, `materialize: entities[${i}]`)) }),
        })
      } finally {
        await sink.close()
      }
    },
    async getOnlineFeatures<F extends K = K>(
      entities: readonly EntityKey[],
      features?: readonly F[],
      call?: AbortOptions,
    ) {
      checkOpen('getOnlineFeatures')
      checkSignal(call?.signal, 'getOnlineFeatures')
      return (await reader.get(entities, features ?? names, call)) as TypedFeatureVector<F>[]
    },
    async getHistoricalFeatures(labels, features = names, call = {}) {
      checkOpen('getHistoricalFeatures')
      checkSignal(call.signal, 'getHistoricalFeatures')
      return asOfJoin(labels, offline, {
        ...call,
        features: features as readonly (string | FeatureRequest)[],
        definitions: infos,
      })
    },
    async audit(served, call = {}) {
      checkOpen('audit')
      checkSignal(call.signal, 'audit')
      return skewAudit(served, offline, { ...call, features: configs, definitions: infos })
    },
    async compact(call = {}) {
      checkOpen('compact')
      if (!compactable(offline)) {
        throw new UnsupportedOperationError(
          'the offline log has no compact() (the memory log keeps no files); use a Parquet log to compact',
        )
      }
      return offline.compact(call)
    },
    describe: () => group.describe(),
    close() {
      closing ??= (async () => {
        stop.abort()
        if (running) await running.catch(() => undefined)
        // In creation order: the store, then the log, which outlives every writer into it.
        for (const c of created) await c.close()
      })()
      return closing
    },
    [Symbol.asyncDispose]: () => fs.close(),
  }
  return fs
}

/** Await what a factory made and remember to close it. */
async function own<T extends { close(): Promise<void> }>(
  made: T | Promise<T>,
  created: { close(): Promise<void> }[],
): Promise<T> {
  const x = await made
  created.push(x)
  return x
}
