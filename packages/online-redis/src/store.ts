/**
 * `redisStore`: the Redis (ioredis) online store, standalone or Cluster. A batch of writes is one
 * EVALSHA of the apply script per hash slot (one call in total on a standalone server), the calls
 * of one Cluster node sharing a pipeline; a read is one pipeline per node (HMGET per entity,
 * HGETALL per additive tile hash).
 */
import type { OnlineStoreCapabilities } from '@skewless/online-sink'
import { createApply, type StoreContext } from './apply.js'
import { createClient } from './client.js'
import { checkPrefix, DEFAULT_PREFIX, tileKeyOf, valueKeyOf } from './keys.js'
import { createRead } from './read.js'
import type { RedisStore, RedisStoreOptions } from './types.js'

/** Create a Redis online store. Connects lazily, on the first call. */
export function redisStore(options: RedisStoreOptions = {}): RedisStore {
  const prefix = checkPrefix(options.prefix ?? DEFAULT_PREFIX)
  const owned = options.client === undefined
  let connectionErrors = 0
  const client =
    options.client ??
    createClient(options, () => {
      connectionErrors++
    })
  const ctx: StoreContext = {
    client,
    prefix,
    isCluster: client.isCluster === true,
    slackMs: options.expirySlackMs ?? 60_000,
  }
  const capabilities: OnlineStoreCapabilities = {
    cas: true,
    additive: true,
    ttl: true,
    cluster: ctx.isCluster,
    durable: true,
  }
  return {
    name: 'redis',
    capabilities,
    apply: createApply(ctx),
    read: createRead(ctx),
    async close() {
      if (!owned) return
      try {
        await client.quit()
      } catch {
        client.disconnect()
      }
    },
    getInstance: () => client,
    get connectionErrors() {
      return connectionErrors
    },
    valueKey: (entity) => valueKeyOf(prefix, entity),
    tileKey: (entity, feature) => tileKeyOf(prefix, entity, feature),
  }
}
