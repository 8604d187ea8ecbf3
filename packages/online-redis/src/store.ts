/**
 * `redisStore`: the Redis (ioredis) online store, standalone or Cluster. A batch of writes is one
 * EVALSHA of the apply script per hash slot (one call in total on a standalone server), the calls
 * of one Cluster node sharing a pipeline; a read is one pipeline per node (HMGET per entity,
 * HGETALL per additive tile hash).
 */
import { InvalidDefinitionError } from '@skewless/core'
import type { OnlineStoreCapabilities } from '@skewless/online-sink'
import { createApply, type StoreContext } from './apply.js'
import { createChangelog } from './changelog.js'
import { createClient } from './client.js'
import { changelogKeyOf, checkPrefix, DEFAULT_PREFIX, tileKeyOf, valueKeyOf } from './keys.js'
import { createRead } from './read.js'
import type { RedisStore, RedisStoreOptions } from './types.js'

/**
 * Create a Redis online store. Connects lazily, on the first call.
 * @throws InvalidDefinitionError when `expirySlackMs` is not a finite number of ms >= 0, or `prefix`
 * is not a string or contains a brace, or `changelog` is not a boolean or is `true` on a Cluster.
 */
export function redisStore(options: RedisStoreOptions = {}): RedisStore {
  const prefix = checkPrefix(options.prefix ?? DEFAULT_PREFIX)
  const slackMs = checkSlack(options.expirySlackMs)
  const changelog = checkChangelog(options)
  const owned = options.client === undefined
  let connectionErrors = 0
  const client =
    options.client ??
    createClient(options, () => {
      connectionErrors++
    })
  const isCluster = client.isCluster === true
  if (changelog && isCluster) {
    throw new InvalidDefinitionError(CLUSTER_CHANGELOG)
  }
  const changelogKey = changelog ? changelogKeyOf(prefix) : undefined
  const ctx: StoreContext = { client, prefix, isCluster, slackMs, changelogKey }
  const log = changelogKey === undefined ? undefined : createChangelog(client, changelogKey)
  const capabilities: OnlineStoreCapabilities = {
    cas: true,
    additive: true,
    ttl: true,
    cluster: ctx.isCluster,
    durable: true,
    changelog,
  }
  return {
    name: 'redis',
    capabilities,
    apply: createApply(ctx),
    read: createRead(ctx),
    ...log,
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
    changelogKey,
  }
}

const CLUSTER_CHANGELOG =
  'online-redis: changelog: true is not supported on a Redis Cluster yet (each entity has its own slot, so no one stream can be written atomically with every write); use a standalone server, or leave changelog unset'

/** `changelog` is a boolean; a Cluster is refused once the client is known (it may be given). */
function checkChangelog(options: RedisStoreOptions): boolean {
  const v = options.changelog
  if (v === undefined || v === false) return false
  if (v !== true) {
    throw new InvalidDefinitionError(
      `online-redis: changelog must be true or false, got ${typeof v} ${JSON.stringify(v)}`,
    )
  }
  if (options.cluster !== undefined) {
    throw new InvalidDefinitionError(CLUSTER_CHANGELOG)
  }
  return true
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
