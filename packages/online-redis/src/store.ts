/**
 * `redisStore`: the Redis (ioredis) online store, standalone or Cluster. A batch of writes is one
 * EVALSHA of the apply script per hash slot (one call in total on a standalone server), the calls
 * of one Cluster node sharing a pipeline; a read is one pipeline per node (HMGET per entity,
 * HGETALL per additive tile hash).
 */
import { type Duration, InvalidDefinitionError, toMs } from '@skewless/core'
import { resolveLogger } from '@skewless/core/adapter'
import * as internal from '@skewless/core/internal'
import type { OnlineStoreCapabilities } from '@skewless/online-sink/adapter'
import { createApply, type StoreContext } from './apply.js'
import { createChangelog } from './changelog.js'
import { createClient } from './client.js'
import { isConnectionFailure } from './errors.js'
import { checkBuckets, checkPrefix, DEFAULT_PREFIX, keyLayout } from './keys.js'
import { Reachability } from './reachability.js'
import { createRead } from './read.js'
import { storeTelemetry } from './telemetry.js'
import type { RedisStore, RedisStoreOptions } from './types.js'

/**
 * Create a Redis online store. Connects lazily, on the first call.
 * @throws InvalidDefinitionError when `expirySlack` is not a finite duration >= 0, or `prefix`
 * is not a string or contains a brace, `buckets` is not a whole number in [0, 16384], or
 * `changelog` is not a boolean or `{ name }` with a valid name, or is set on a Cluster without buckets.
 */
export function redisStore(options: RedisStoreOptions = {}): RedisStore {
  const prefix = checkPrefix(options.prefix ?? DEFAULT_PREFIX)
  const slackMs = checkSlack(options)
  const buckets = checkBuckets(options.buckets)
  const changelog = checkChangelog(options, buckets)
  const owned = options.client === undefined
  const reach = new Reachability(
    addressOf(options),
    checkUnavailableAfter(options.unavailableAfter),
    resolveLogger(options.logger),
  )
  let connectionErrors = 0
  const client =
    options.client ??
    createClient(options, {
      onError: (err) => {
        connectionErrors++
        reach.lost(err)
      },
      onReady: () => reach.recovered(),
      onClose: () => reach.lost(new Error('the connection to Redis closed')),
    })
  const isCluster = client.isCluster === true
  if (changelog !== false && isCluster && buckets === 0) {
    throw new InvalidDefinitionError(CLUSTER_CHANGELOG)
  }
  const layout = keyLayout(prefix, buckets)
  const changelogKeys =
    changelog === false
      ? undefined
      : Array.from({ length: Math.max(1, buckets) }, (_, b) => layout.changelogKey(b, changelog.name))
  const ctx: StoreContext = { client, layout, isCluster, slackMs, changelogKeys }
  const log = changelogKeys === undefined ? undefined : createChangelog(client, changelogKeys, buckets > 0)
  // Every call goes through the reachability bound (a dead server fails it within unavailableAfter).
  const guarded =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      reach.guard(() => fn(...args), isConnectionFailure)
  const apply = createApply(ctx)
  const read = createRead(ctx)
  // Timed outside the reachability guard: a call failed by the guard is a failed operation too.
  const tel = storeTelemetry(options)
  const capabilities: OnlineStoreCapabilities = {
    cas: true,
    additive: true,
    ttl: true,
    cluster: ctx.isCluster,
    durable: true,
    changelog: changelog !== false,
  }
  return {
    name: 'redis',
    capabilities,
    apply: tel.timed('apply', guarded(apply)),
    read: tel.timed('read', guarded(read)),
    ...(log === undefined
      ? {}
      : {
          readChangelog: tel.timed('read_changelog', guarded(log.readChangelog)),
          trimChangelog: tel.timed('trim_changelog', guarded(log.trimChangelog)),
          changelogHead: tel.timed('changelog_head', guarded(log.changelogHead)),
        }),
    async close() {
      reach.closing = true
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
    buckets,
    bucketOf: (entity) => layout.bucketOf(entity),
    valueKey: (entity) => layout.valueKey(entity, layout.bucketOf(entity)),
    tileKey: (entity, feature) => layout.tileKey(entity, feature, layout.bucketOf(entity)),
    changelogKey: buckets === 0 ? changelogKeys?.[0] : undefined,
    changelogKeys,
  }
}

/** Where the store connects, for messages and logs: password redacted. */
function addressOf(options: RedisStoreOptions): string {
  if (options.client !== undefined) {
    const o = (options.client as { options?: { host?: unknown; port?: unknown } }).options
    return typeof o?.host === 'string' ? `${o.host}:${String(o.port)} (given client)` : '(given client)'
  }
  if (options.cluster !== undefined)
    return `cluster ${internal.redactUrls(options.cluster.map((n) => `${n.host}:${n.port}`))}`
  return internal.redactUrl(options.url ?? 'redis://127.0.0.1:6379')
}

/** `unavailableAfter`: a duration > 0 (`Infinity`: retry forever). */
function checkUnavailableAfter(v: Duration | undefined): number {
  if (v === undefined) return 10_000
  if (v === Number.POSITIVE_INFINITY) return v
  let ms: number
  try {
    ms = toMs(v, 'online-redis: unavailableAfter')
  } catch (err) {
    throw new InvalidDefinitionError(`${(err as Error).message} (or Infinity to retry forever)`, {
      cause: err,
    })
  }
  if (!(ms > 0)) {
    throw new InvalidDefinitionError(
      `online-redis: unavailableAfter must be a duration > 0 (e.g. '10s', or Infinity to retry forever), got ${String(v)}`,
    )
  }
  return ms
}

const CLUSTER_CHANGELOG =
  'online-redis: a changelog on a Redis Cluster needs buckets > 0 (with the entity as the hash tag each entity has its own slot, so no one stream can be written atomically with every write); set buckets (e.g. 64: README, "Key layout"), or use a standalone server'

/** A changelog name: it ends a key name, so no braces, no separators, bounded. */
const CHANGELOG_NAME = /^[A-Za-z0-9_.-]{1,64}$/

/**
 * `changelog`: false, or the stream's name (`undefined`: unnamed). A Cluster without buckets is
 * refused here when known from the options, else once the client is (it may be given).
 */
function checkChangelog(options: RedisStoreOptions, buckets: number): false | { name: string | undefined } {
  const v = options.changelog as unknown
  if (v === undefined || v === false) return false
  let name: string | undefined
  if (v !== true) {
    const n = typeof v === 'object' && v !== null ? (v as { name?: unknown }).name : undefined
    if (typeof n !== 'string' || !CHANGELOG_NAME.test(n)) {
      throw new InvalidDefinitionError(
        `online-redis: changelog must be true, false or { name } with a name of 1-64 letters, digits, '_', '.' or '-', got ${typeof v} ${JSON.stringify(v)}`,
      )
    }
    name = n
  }
  if (options.cluster !== undefined && buckets === 0) {
    throw new InvalidDefinitionError(CLUSTER_CHANGELOG)
  }
  return { name }
}

/**
 * The slack is added to every physical lifetime: a negative one would let Redis delete a value the
 * reader still serves (or PEXPIRE a key at once), and a non-finite one silently disables expiry.
 */
function checkSlack(options: RedisStoreOptions): number {
  const d = internal.durationOption(
    'online-redis',
    'expirySlack',
    options.expirySlack,
    'expirySlackMs',
    options.expirySlackMs,
  )
  return internal.numberOption('online-redis', d.name, d.ms, 60_000, {
    min: 0,
    ms: true,
    hint: "it is added to each TTL feature's physical lifetime so Redis never deletes a value the reader could still serve (leave it unset for 60_000, or use ttlMs: Infinity for no expiry)",
  })
}
