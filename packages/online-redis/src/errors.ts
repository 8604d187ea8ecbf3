/**
 * Mapping ioredis failures to the online-sink error contract: transient ones (worth retrying)
 * become `StoreUnavailableError`, the rest `StoreWriteError` (the whole call failed permanently).
 */
import { StoreUnavailableError, StoreWriteError } from '@skewless/online-sink'

/** Server replies that mean "try again later" (loading, failover, cluster reconfiguration, busy script, full memory or disk). */
const TRANSIENT_REPLY =
  /^(LOADING|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|BUSY|READONLY|OOM|MISCONF|NOREPLICAS|MOVED|ASK)\b/

/** Whether a Redis error is worth retrying. Anything that is not a server reply (closed connection, refused, timeout) is. */
export function isTransientRedisError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const e = err as { name?: unknown; message?: unknown }
  const message = typeof e.message === 'string' ? e.message : ''
  if (e.name === 'ReplyError') return TRANSIENT_REPLY.test(message)
  return true
}

/** Whether a reply is a Cluster redirection the client did not follow (its slot map is stale). */
export function isRedirection(err: unknown): boolean {
  const m = (err as { message?: unknown } | null)?.message
  return typeof m === 'string' && (m.startsWith('MOVED ') || m.startsWith('ASK '))
}

/** Wrap a failure of `what` (e.g. `'apply'`) into the error the sink understands, keeping `cause`. */
export function toStoreError(err: unknown, what: string): Error {
  const message = err instanceof Error ? err.message : String(err)
  if (isTransientRedisError(err)) {
    return new StoreUnavailableError(
      `online-redis: ${what} failed (${message}); the sink retries it with backoff`,
      { cause: err, store: 'redis', transient: true },
    )
  }
  return new StoreWriteError(
    'script-error',
    `online-redis: ${what} was refused by Redis (${message}); check the server version (needs Redis >= 5 with Lua) and ACLs`,
    { cause: err },
  )
}
