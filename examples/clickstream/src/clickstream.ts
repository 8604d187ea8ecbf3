/**
 * What the clickstream example's processes share: the event, the features (defined once), the
 * stream's layout (4 partitions, `clicks.<partition>.<user>`), a deterministic producer, and the
 * online store of a partition (standalone Redis or a Redis Cluster).
 */
import { jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { count, defineFeatures, hopping, last, sum, unbounded } from '@skewless/core'
import { type RedisStore, redisStore } from '@skewless/online-redis'
import { onlineFeatures } from '@skewless/online-sink'

/** One click on the shop's site (a purchase is a click with an amount). */
export interface Click {
  user: string
  /** Event time, ms since epoch. */
  ts: number
  page: string
  /** What was spent, 0 for a plain click. */
  amount: number
}

export const STREAM = 'CLICKS'
export const PARTITIONS = 4
/** Subjects of the stream: `clicks.<partition>.<user>`. */
export const SUBJECTS = 'clicks.*.*'
/** A partition's subject filter, for `natsPartitionSources`. */
export const PARTITION_SUBJECT = 'clicks.{partition}.*'
/** Redis key prefix: the example's keys never mix with others'. */
export const PREFIX = 'clickstream:'
/** Hash-tag buckets of the Cluster key layout (docs/decisions/redis-cluster-buckets.md). */
export const CLUSTER_BUCKETS = 16

export const features = defineFeatures<Click>({
  entity: (e) => e.user,
  eventTime: (e) => e.ts,
  features: {
    clicks_last_5_minutes: {
      window: hopping('5m', '1m'),
      aggregate: count(),
      description: "the user's clicks in the last 5 minutes",
    },
    spend_last_hour: {
      window: hopping('1h', '5m'),
      aggregate: sum(),
      value: (e) => e.amount,
      emit: 'tiles', // Redis keeps 5-minute partial sums; the reader adds those of the window
      description: 'what the user spent in the last hour',
    },
    last_page_10m: {
      window: hopping('10m', '1m'),
      aggregate: last('string'),
      value: (e) => e.page,
      description: 'the page of the latest click in the last 10 minutes',
    },
    clicks_total: {
      window: unbounded(),
      aggregate: count(),
      description: "the user's clicks since the stream began",
    },
  },
})
export const featureNames = features.describe().map((f) => f.name)
export const onlineConfigs = onlineFeatures(features.describe())

/**
 * The partition of a user: FNV-1a of the name, modulo the partitions. Producers compute it, so the
 * stream needs no server-side mapping (README: the `partition()` mapping alternative).
 */
export function partitionOf(user: string, partitions = PARTITIONS): number {
  let h = 0x811c9dc5
  for (let i = 0; i < user.length; i++) {
    h ^= user.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h % partitions
}

const PAGES = ['home', 'search', 'product', 'cart', 'checkout']
function mix(i: number): number {
  let x = (i + 0x9e3779b9) >>> 0
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0
  return (x ^ (x >>> 16)) >>> 0
}

/**
 * Click `i` of a stream starting at `t0`, one every `stepMs`: always the same, in event-time order
 * (a producer's clock), spread over `users` users, 1 in 20 a purchase.
 */
export function clickAt(i: number, t0: number, users: number, stepMs: number): Click {
  const h = mix(i)
  const purchase = (h >>> 8) % 20 === 0
  return {
    user: `user-${String(h % users).padStart(3, '0')}`,
    ts: t0 + i * stepMs,
    page: purchase ? 'checkout' : (PAGES[(h >>> 4) % PAGES.length] as string),
    amount: purchase ? ((h >>> 12) % 20_000) / 100 : 0,
  }
}

/** Create the stream (file storage, kept a week) unless it exists; with `reset`, delete it first. */
export async function createStream(nc: NatsConnection, reset = false): Promise<void> {
  const jsm = await jetstreamManager(nc)
  if (reset) await jsm.streams.delete(STREAM).catch(() => false)
  const config = {
    name: STREAM,
    subjects: [SUBJECTS],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    max_age: 7 * 24 * 3600 * 1e9, // nanoseconds
  }
  try {
    await jsm.streams.info(STREAM)
  } catch {
    await jsm.streams.add(config)
  }
}

/** Publish clicks `from..to-1` to `clicks.<partition>.<user>`, 500 acknowledgements in flight. */
export async function produce(
  nc: NatsConnection,
  from: number,
  to: number,
  click: (i: number) => Click,
): Promise<void> {
  const js = jetstream(nc)
  const window: Promise<unknown>[] = []
  for (let i = from; i < to; i++) {
    const c = click(i)
    // The message id makes a retried publish land once.
    window.push(
      js.publish(`clicks.${partitionOf(c.user)}.${c.user}`, JSON.stringify(c), { msgID: `click-${i}` }),
    )
    if (window.length === 500) await Promise.all(window.splice(0))
  }
  await Promise.all(window)
}

/** Where the online store is: a standalone Redis URL, or the nodes of a Redis Cluster. */
export type RedisTarget = { url: string } | { cluster: { host: string; port: number }[] }

/** Parse `host:port,host:port`. */
export function parseNodes(list: string): { host: string; port: number }[] {
  return list.split(',').map((hp) => {
    const [host, port] = hp.split(':')
    if (!host || !port || !Number.isInteger(Number(port))) throw new Error(`not host:port: ${hp}`)
    return { host, port: Number(port) }
  })
}

/**
 * The online store: with `partition`, the writer's store of that partition (its own changelog,
 * which its committer moves into `<log>/partition=<p>`); without, a reader's.
 */
export function store(target: RedisTarget, partition?: number): RedisStore {
  const changelog = partition === undefined ? {} : { changelog: { name: `partition-${partition}` } }
  return 'url' in target
    ? redisStore({ url: target.url, prefix: PREFIX, ...changelog })
    : redisStore({ cluster: target.cluster, buckets: CLUSTER_BUCKETS, prefix: PREFIX, ...changelog })
}
