/**
 * Mapping ioredis failures to the online-sink error contract: transient ones (worth retrying)
 * become `StoreUnavailableError`, the rest `StoreWriteError` (the whole call failed permanently).
 * Two permanent causes get their own class, because the fix is the operator's, not a retry:
 * a missing ACL permission (`RedisPermissionError`) and a refused TLS handshake (`RedisTlsError`).
 * Every message and `cause` is scrubbed of passwords (core's redact rule) before it leaves the store.
 */
import { SkewlessError, type SkewlessErrorOptions } from '@skewless/core'
import * as internal from '@skewless/core/internal'
import { StoreUnavailableError, StoreWriteError } from '@skewless/online-sink'

/** Server replies that mean "try again later" (loading, failover, cluster reconfiguration, busy script, full memory or disk). */
const TRANSIENT_REPLY =
  /^(LOADING|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|BUSY|READONLY|OOM|MISCONF|NOREPLICAS|MOVED|ASK)\b/

/**
 * Node's codes for a TLS handshake that was refused: the server's certificate is not trusted or
 * not for this host, or the server does not speak TLS. Retrying cannot help and must never fall
 * back to plaintext, so these fail the call for good.
 */
const TLS_REFUSED = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REJECTED',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
])

/**
 * Redis refused a command or a key for the connection's ACL user (a `NOPERM` reply). Permanent:
 * the sink dead-letters the writes with this message as their reason. `permission` is what is
 * missing, in ACL syntax where the reply says (`+evalsha`, `+hset`), else the server's words.
 */
export class RedisPermissionError extends StoreWriteError {
  /** Always `'permission-denied'`. */
  declare readonly code: 'permission-denied'
  /** The missing permission, e.g. `+evalsha`, `+hset` or `key access`. */
  readonly permission: string
  /** The server's `NOPERM` reply. */
  readonly reply: string

  constructor(message: string, permission: string, reply: string, options?: { cause?: unknown }) {
    super('script-error', message, options, 'permission-denied')
    this.permission = permission
    this.reply = reply
  }
}

/**
 * The TLS connection to Redis was refused (untrusted CA, certificate for another host, server
 * without TLS). Not transient (`transient: false`): the sink dead-letters the writes instead of
 * retrying a connection that cannot succeed until the configuration changes.
 */
export class RedisTlsError extends StoreUnavailableError {
  /** Always `'tls-refused'`. */
  declare readonly code: 'tls-refused'
  /** Node's TLS error code, e.g. `ERR_TLS_CERT_ALTNAME_INVALID`, `SELF_SIGNED_CERT_IN_CHAIN`. */
  readonly tlsCode: string

  constructor(message: string, tlsCode: string, options?: { cause?: unknown }) {
    super(message, { ...options, store: 'redis', transient: false }, 'tls-refused')
    this.tlsCode = tlsCode
  }
}

/**
 * Redis could not be reached for `unavailableAfter` (wrong address or port, server down, network cut):
 * the store stops retrying. Not transient (`transient: false`) and code `store-unreachable`, so the
 * sink fails (its `write`, `flush` and `close` reject with it, and so does the pipeline's `run()`)
 * instead of dead-lettering every write that follows. `address` is the server, password redacted.
 */
export class RedisUnreachableError extends StoreUnavailableError {
  /** Always `'store-unreachable'`. */
  declare readonly code: 'store-unreachable'
  /** The server address(es), credentials redacted, e.g. `redis://app:***@10.0.0.5:6379`. */
  readonly address: string
  /** How long Redis had not been reachable when the store gave up (ms). */
  readonly unreachableForMs: number

  constructor(message: string, address: string, unreachableForMs: number, options?: { cause?: unknown }) {
    super(message, { ...options, store: 'redis', transient: false }, 'store-unreachable')
    this.address = address
    this.unreachableForMs = unreachableForMs
  }
}

/**
 * Whether a store error means the connection failed (refused, reset, closed, timed out, retries of
 * the client exhausted), as opposed to a reply of a server that was reached (even a transient one,
 * like `LOADING` or `BUSY`). Looks at the client's error the store's error wraps.
 */
export function isConnectionFailure(err: unknown): boolean {
  if (typeof err !== 'object' || err === null || (err as { transient?: unknown }).transient !== true) {
    return false
  }
  const raw = (err as { cause?: unknown }).cause ?? err
  return (raw as { name?: unknown } | null)?.name !== 'ReplyError' && !isRedirection(raw)
}

/** Whether a Redis error is worth retrying. Anything that is not a server reply (closed connection, refused, timeout) is. */
export function isTransientRedisError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const e = err as { name?: unknown; message?: unknown }
  const message = typeof e.message === 'string' ? e.message : ''
  if (e.name === 'ReplyError') return TRANSIENT_REPLY.test(message)
  if (tlsRefusalOf(err) !== undefined) return false
  return true
}

/** Whether a reply is a Cluster redirection the client did not follow (its slot map is stale). */
export function isRedirection(err: unknown): boolean {
  const m = (err as { message?: unknown } | null)?.message
  return typeof m === 'string' && (m.startsWith('MOVED ') || m.startsWith('ASK '))
}

/** The refused TLS handshake in `err`'s cause chain (client.ts links the connection's error), if any. */
export function tlsRefusalOf(err: unknown): (Error & { code: string }) | undefined {
  for (let e = err, depth = 0; typeof e === 'object' && e !== null && depth < 8; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && TLS_REFUSED.has(code)) return e as Error & { code: string }
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

/**
 * A refusal by the ACL: a `NOPERM` reply, or (Redis 7.0 and 7.1) the error a script gets when it
 * calls a command or key its user may not use.
 */
const PERMISSION_REPLY = /^NOPERM\b|user executing the script can't (run|access)/

/** `+cmd` from a NOPERM reply naming a command (`... to run the 'hset' command`), else what it names. */
export function missingPermission(reply: string): string {
  const cmd = /'([a-z|_-]+)' command/i.exec(reply)
  if (cmd) return `+${(cmd[1] as string).toLowerCase()}`
  // Redis < 7.2 does not name the command a script was refused.
  if (/script can't run/.test(reply)) return 'a command the apply script calls'
  if (/key/i.test(reply)) return 'key access'
  if (/channel/i.test(reply)) return 'channel access'
  return reply
}

/** Wrap a failure of `what` (e.g. `'apply'`) into the error the sink understands, keeping `cause`. */
export function toStoreError(err: unknown, what: string): Error {
  internal.scrubError(err)
  const message = describeFailure(err)
  const tls = tlsRefusalOf(err)
  if (tls !== undefined) {
    return new RedisTlsError(
      internal.errorMessage(
        'online-redis',
        `${what} failed: the TLS connection to Redis was refused (${tls.code}: ${internal.redactText(tls.message)}); the store never falls back to plaintext`,
        { readme: 'online-redis' },
      ),
      tls.code,
      { cause: err },
    )
  }
  if (isTransientRedisError(err)) {
    return new StoreUnavailableError(
      internal.errorMessage('online-redis', `${what} failed (${message}); the sink retries it with backoff`),
      { cause: err, store: 'redis', transient: true },
    )
  }
  if (PERMISSION_REPLY.test(message)) {
    const permission = missingPermission(message)
    return new RedisPermissionError(
      internal.errorMessage(
        'online-redis',
        `${what} was refused by Redis: the connection's ACL user lacks ${permission} (${message})`,
        { readme: 'online-redis' },
      ),
      permission,
      message,
      { cause: err },
    )
  }
  return new StoreWriteError(
    'script-error',
    internal.errorMessage('online-redis', `${what} was refused by Redis (${message})`, {
      readme: 'online-redis',
    }),
    { cause: err },
  )
}

/** The error's message, with the connection error behind it when ioredis gave up retrying. */
function describeFailure(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  const cause = (err as { cause?: unknown } | null)?.cause
  const behind =
    cause instanceof Error && !message.includes(cause.message)
      ? `; last connection error: ${cause.message}`
      : ''
  return internal.redactText(message + behind)
}

/**
 * An entry of the changelog stream is not in the store's format (something else appended to the
 * stream). Reading stops there rather than skip writes the log would then never get.
 */
export class ChangelogFormatError extends SkewlessError {
  /** Always `'changelog-format'`. */
  declare readonly code: 'changelog-format'
  constructor(message: string, options?: SkewlessErrorOptions) {
    super('changelog-format', message, options)
  }
}
