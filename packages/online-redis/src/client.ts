/** Clients the store creates itself: ioredis `Redis` or `Cluster`, lazily connected. */
import { InvalidDefinitionError } from '@skewless/core'
import * as internal from '@skewless/core/internal'
import { Cluster, Redis } from 'ioredis'
import type { RedisLike, RedisStoreOptions } from './types.js'

const STORE_DEFAULTS = { lazyConnect: true, maxRetriesPerRequest: 2, autoResendUnfulfilledCommands: false }

/** What the store hears of a client's connection. */
export interface ConnectionEvents {
  /** A connection error (scrubbed of secrets). */
  onError(err: Error): void
  /** The connection is ready (again). */
  onReady(): void
  /** The connection closed (the store tells its own `close()` apart). */
  onClose(): void
}

/** Create the client of a store that was given none. */
export function createClient(options: RedisStoreOptions, events: ConnectionEvents): RedisLike {
  const extra = options.clientOptions ?? {}
  const redisOptions = (extra.redisOptions as Record<string, unknown> | undefined) ?? {}
  registerSecrets(options.url, extra, redisOptions)
  let client: Redis | Cluster
  try {
    if (options.cluster !== undefined) {
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
  } catch (err) {
    // Node's ERR_INVALID_URL keeps the whole URL, password included, in `input`.
    internal.scrubError(err)
    throw new InvalidDefinitionError(
      `online-redis: cannot create a Redis client for ${internal.redactText(String(options.url ?? options.cluster?.map((n) => `${n.host}:${n.port}`).join(',')))} (${internal.redactText((err as Error).message)}); pass a URL like redis://user:password@host:6379 or rediss://... for TLS`,
      { cause: err },
    )
  }
  let lastError: Error | undefined
  // Connection errors also fail the pending calls (and the sink retries them); here they are only
  // counted, instead of ioredis printing "Unhandled error event" for each reconnect attempt.
  client.on('error', (err: Error) => {
    internal.scrubError(err)
    lastError = err
    events.onError(err)
  })
  // A Cluster reports its nodes' connection errors (a refused TLS handshake) only as 'node error'.
  client.on('node error', (err: Error) => {
    internal.scrubError(err)
    lastError = err
  })
  client.on('ready', () => {
    lastError = undefined
    events.onReady()
  })
  client.on('close', () => events.onClose())
  linkConnectionError(client, () => lastError)
  return client as unknown as RedisLike
}

/**
 * When ioredis gives up on queued commands (`MaxRetriesPerRequestError`, "Connection is closed")
 * it drops why: the refused TLS handshake or the refused connection is only in an `error` event.
 * The commands' error gets that connection error as its `cause`, so the store can say what went
 * wrong and tell a refused certificate (permanent) from a server that is down (transient).
 */
function linkConnectionError(client: Redis | Cluster, last: () => Error | undefined): void {
  const c = client as unknown as { flushQueue?: (error: Error, ...rest: unknown[]) => void }
  const flush = c.flushQueue
  if (typeof flush !== 'function') return
  c.flushQueue = function (this: unknown, error: Error, ...rest: unknown[]) {
    const why = last()
    if (why !== undefined && error instanceof Error) linkAtEnd(error, why)
    return flush.call(this, error, ...rest)
  }
}

/** Make `why` the cause of the last error of `err`'s cause chain (a Cluster's error already has causes). */
function linkAtEnd(err: Error, why: Error): void {
  let e: Error = err
  for (let depth = 0; depth < 8; depth++) {
    if (e === why) return
    const next = e.cause
    if (!(next instanceof Error)) break
    e = next
  }
  if (e === why || e.cause !== undefined) return
  try {
    Object.defineProperty(e, 'cause', { value: why, configurable: true, writable: true })
  } catch {
    // Not extensible: the error goes out without the connection's reason.
  }
}

/** Every password a created client holds, so no error or log line of the store can show it. */
function registerSecrets(url: string | undefined, ...opts: Record<string, unknown>[]): void {
  if (url !== undefined) {
    try {
      internal.registerSecret(decodeURIComponent(new URL(url).password))
    } catch {
      // An unparsable URL: the password is still removed by the URL pattern of redactText.
    }
  }
  for (const o of opts) {
    internal.registerSecret(o.password)
    const tls = o.tls as { passphrase?: unknown } | undefined
    if (typeof tls === 'object' && tls !== null) internal.registerSecret(tls.passphrase)
  }
}
