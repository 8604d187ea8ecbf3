/**
 * What the worker tests share: a 4-partition JetStream stream of clicks (server-side `partition()`
 * mapping), a deterministic producer, the features, a real Redis, and readers of the online store and
 * of every partition's log.
 */
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { count, defineFeatures, type FeatureWrite, sum, unbounded } from '@skewless/core'
import { parquetLog } from '@skewless/offline-parquet'
import { redisStore } from '@skewless/online-redis'
import { onlineFeatures, onlineReader } from '@skewless/online-sink'
import { natsPartitionSources } from '@skewless/source-nats'
import type { WorkerOptions } from '../src/index.js'

export const PARTITIONS = 4
export const USERS = 40
export const T0 = Date.now() - 600_000

/** Server configuration: `clicks.<user>` is stored as `clicks.<partition>.<user>`. */
export const MAPPING = `mappings { "clicks.*": "clicks.{{partition(${PARTITIONS},1)}}.{{wildcard(1)}}" }`

export interface Click {
  user: string
  n: number
  amount: number
}

/** Click `n`: always the same. */
export function clickAt(n: number): Click {
  return { user: `u${(n * 7919) % USERS}`, n, amount: (n % 13) + 1 }
}

export const features = defineFeatures<Click>({
  entity: (e) => e.user,
  eventTime: (e) => T0 + e.n,
  features: {
    clicks: { window: unbounded(), aggregate: count() },
    amount: { window: unbounded(), aggregate: sum(), value: (e) => e.amount },
  },
})
export const featureNames = features.describe().map((f) => f.name)

/** What the online store must hold after clicks `0..n-1`: per user, count and sum. */
export function expected(n: number): Map<string, { clicks: number; amount: number }> {
  const out = new Map<string, { clicks: number; amount: number }>()
  for (let i = 0; i < n; i++) {
    const c = clickAt(i)
    const e = out.get(c.user) ?? { clicks: 0, amount: 0 }
    e.clicks++
    e.amount += c.amount
    out.set(c.user, e)
  }
  return out
}

export async function createClicksStream(nc: NatsConnection): Promise<void> {
  const jsm = await jetstreamManager(nc)
  await jsm.streams.add({ name: 'CLICKS', subjects: ['clicks.*.*'], storage: StorageType.File })
}

/** Publish clicks `from..to-1` to `clicks.<user>`, 200 in flight. */
export async function publish(nc: NatsConnection, from: number, to: number): Promise<void> {
  const js = jetstream(nc)
  const window: Promise<unknown>[] = []
  for (let n = from; n < to; n++) {
    const c = clickAt(n)
    window.push(js.publish(`clicks.${c.user}`, JSON.stringify(c), { msgID: `c-${n}` }))
    if (window.length === 200) await Promise.all(window.splice(0))
  }
  await Promise.all(window)
}

/** The worker options every test uses, against `natsUrl` and `redisUrl`, logs under `root`. */
export function workerOptions(
  natsUrl: string,
  redisUrl: string,
  root: string,
): Pick<WorkerOptions<Click>, 'definitions' | 'source' | 'store' | 'log' | 'logOptions'> {
  return {
    definitions: features,
    source: (p) =>
      natsPartitionSources<Click>({
        servers: natsUrl,
        stream: 'CLICKS',
        partitions: [p],
        partitionSubject: 'clicks.{partition}.*',
        batchSize: 250,
        maxWaitMs: 20,
        // Generous: on a loaded machine a first connect or consumer creation can take seconds.
        maxReconnectTimeMs: 30_000,
      })[0] as never,
    store: (p) => redisStore({ url: redisUrl, changelog: { name: `partition-${p}` } }),
    log: root,
    logOptions: { workers: 0 },
  }
}

/** Every user's served values, from Redis. */
export async function onlineValues(
  redisUrl: string,
): Promise<Map<string, { clicks: number; amount: number }>> {
  const store = redisStore({ url: redisUrl })
  try {
    const reader = onlineReader({ store, features: onlineFeatures(features.describe()) })
    const users = Array.from({ length: USERS }, (_, i) => `u${i}`)
    const vectors = await reader.get(users, featureNames)
    const out = new Map<string, { clicks: number; amount: number }>()
    for (const v of vectors) {
      const clicks = v.values.clicks?.value
      const amount = v.values.amount?.value
      if (clicks !== undefined && clicks !== null)
        out.set(v.entity, { clicks: clicks as number, amount: amount as number })
    }
    return out
  } finally {
    await store.close()
  }
}

/** Every record of every `partition=<n>` log under `root` (read-only opens). */
export async function logRecords(root: string): Promise<{ partition: number; record: FeatureWrite }[]> {
  const out: { partition: number; record: FeatureWrite }[] = []
  for (const d of await readdir(root)) {
    const m = /^partition=(\d+)$/.exec(d)
    if (!m) continue
    const log = await parquetLog({
      dir: join(root, d),
      features: features.describe(),
      readOnly: true,
      workers: 0,
    })
    try {
      for await (const rows of log.scanRows({ features: featureNames }))
        for (const record of rows) out.push({ partition: Number(m[1]), record })
    } finally {
      await log.close()
    }
  }
  return out
}

/** The identity of a logged write: logged twice means a duplicate. */
export const identity = (r: FeatureWrite) =>
  `${r.entity}|${r.feature}|${r.tileStart ?? ''}|${r.eventTime}|${r.version}`

/** Poll `check` every 50 ms until true; throw naming `what` after `timeoutMs`. */
export async function until(
  what: string,
  timeoutMs: number,
  check: () => boolean | Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
