/** Clients the store creates itself: ioredis `Redis` or `Cluster`, lazily connected. */
import { Cluster, Redis } from 'ioredis'
import type { RedisLike, RedisStoreOptions } from './types.js'

const STORE_DEFAULTS = { lazyConnect: true, maxRetriesPerRequest: 2, autoResendUnfulfilledCommands: false }

/** Create the client of a store that was given none. */
export function createClient(options: RedisStoreOptions, onError: (err: Error) => void): RedisLike {
  const extra = options.clientOptions ?? {}
  let client: Redis | Cluster
  if (options.cluster !== undefined) {
    const redisOptions = (extra.redisOptions as Record<string, unknown> | undefined) ?? {}
    // No auto-pipelining: with it ioredis stops following MOVED after a topology change (ioredis
    // #2075; reproduced here by killing and restarting a master in redis-cluster-faults.test.ts).
    client = new Cluster(options.cluster as { host: string; port: number }[], {
      lazyConnect: true,
      ...extra,
      redisOptions: { ...STORE_DEFAULTS, ...redisOptions },
    })
  } else {
    client = new Redis(options.url ?? 'redis://127.0.0.1:6379', { ...STORE_DEFAULTS, ...extra })
  }
  // Connection errors also fail the pending calls (and the sink retries them); here they are only
  // counted, instead of ioredis printing "Unhandled error event" for each reconnect attempt.
  client.on('error', onError)
  return client as unknown as RedisLike
}
