/**
 * `redisStore`: the Redis (ioredis) online store, standalone or Cluster. A batch of writes is one
 * EVALSHA of the apply script per hash slot (one call in total on a standalone server), the calls
 * of one Cluster node sharing a pipeline; a read is one pipeline per node (HMGET per entity,
 * HGETALL per additive tile hash).
 */
import { InvalidDefinitionError } from '@skewless/core'
import type { OnlineStoreCapabilities } from '@skewless/online-sink'
import { createApply, type StoreContext } from './apply.js'
import { createClient } from './client.js'
import { checkPrefix, DEFAULT_PREFIX, tileKeyOf, valueKeyOf } from './keys.js'
import { createRead } from './read.js'
import type { RedisStore, RedisStoreOptions } from './types.js'

/**
 * Create a Redis online store. Connects lazily, on the first call.
 * @throws InvalidDefinitionError when `expirySlackMs` is not a finite number of ms >= 0, or `prefix`
 * is not a string or contains a brace.
 */
export function redisStore(options: RedisStoreOptions = {}): RedisStore {
  const prefix = checkPrefix(options.prefix ?? DEFAULT_PREFIX)
  const slackMs = checkSlack(options.expirySlackMs)
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
    slackMs,
  }
  const capabilities: OnlineStoreCapabilities = {
    cas: true,
    additive: true,
    ttl: true,
    cluster: ctx.isCluster,
    durable: true,
    changelog: false,
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

/**
 * The slack is added to every physical lifetime: a negative one would let Redis delete a value the
 * reader still serves (or PEXPIRE a key at once), and a non-finite one silently disables expiry.
 */
function checkSlack(v: number | undefined): number {
  if (v === undefined) return 60_000
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v
  const got = typeof v === 'number' ? String(v) : `${typeof v} ${JSON.stringify(v)}`
  throw new InvalidDefinitionError(
    `online-redis: expirySlackMs must be a finite number of ms >= 0, got ${got}; it is added to each TTL feature's physical lifetime so Redis never deletes a value the reader could still serve (leave it unset for 60_000, or use ttlMs: Infinity for no expiry)`,
  )
}
