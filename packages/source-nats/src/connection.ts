/**
 * Where a source's connection comes from: the caller's (never closed here), or one the source opens
 * on first use and shares among the readers of the sources made together (`natsPartitionSources`),
 * closed when the last of them ends.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node'
import * as internal from '@skewless/core/internal'
import { NatsTlsError, NatsUnavailableError } from './errors.js'
import { clientTls, tlsRefusal } from './tls.js'
import type { NatsConnectionLike, NatsTlsOptions } from './types.js'

/** Options of `ConnectionProvider`. */
export interface ConnectionProviderOptions {
  connection?: NatsConnectionLike
  servers?: string | readonly string[]
  tls?: NatsTlsOptions
  clientName: string
  maxReconnectTimeMs: number
  reconnectWaitMs: number
}

/** Hands out one connection to many readers, reference-counted. */
export class ConnectionProvider {
  /** The server address(es) for messages, credentials redacted. */
  readonly server: string
  private readonly options: ConnectionProviderOptions
  private owned: Promise<NatsConnection> | undefined
  private closing: Promise<void> = Promise.resolve()
  private users = 0

  constructor(options: ConnectionProviderOptions) {
    this.options = options
    this.server =
      options.servers === undefined
        ? '(connection given by the caller)'
        : internal.redactUrls(options.servers)
  }

  /** Whether the connection is the caller's (so it is never closed here). */
  get external(): boolean {
    return this.options.connection !== undefined
  }

  /** A connected client; pair every successful call with `release()`. */
  async acquire(signal: AbortSignal): Promise<NatsConnection> {
    const given = this.options.connection
    if (given !== undefined) {
      if (given.isClosed()) {
        throw new NatsUnavailableError('the connection passed as `connection` is closed: pass an open one', {
          server: given.getServer(),
        })
      }
      return given as NatsConnection
    }
    this.users++
    try {
      await this.closing
      this.owned ??= this.connectWithRetry()
      const owned = this.owned
      const nc = await raceAbort(owned, signal)
      return nc
    } catch (err) {
      await this.release()
      throw err
    }
  }

  /** Give back what `acquire` returned; the last user of an owned connection closes it. */
  async release(): Promise<void> {
    if (this.options.connection !== undefined) return
    this.users--
    if (this.users > 0 || this.owned === undefined) return
    const owned = this.owned
    this.owned = undefined
    this.closing = owned.then(
      (nc) => nc.close().catch(() => undefined),
      () => undefined,
    )
    await this.closing
  }

  /** Connect, retrying every `reconnectWaitMs` until `maxReconnectTimeMs` (a server still starting is normal). */
  private async connectWithRetry(): Promise<NatsConnection> {
    const { servers, clientName, maxReconnectTimeMs, reconnectWaitMs } = this.options
    const tls = clientTls(servers, this.options.tls)
    const deadline = Date.now() + maxReconnectTimeMs
    for (let attempt = 1; ; attempt++) {
      try {
        return await connect({
          ...withoutCredentials(servers ?? []),
          ...(tls === undefined ? {} : { tls }),
          name: clientName,
          // Reconnects never give up inside the client: the source bounds the outage itself
          // (maxReconnectTimeMs), and reports it with the server's address.
          maxReconnectAttempts: -1,
          reconnectTimeWait: reconnectWaitMs,
          timeout: Math.max(1, Math.min(maxReconnectTimeMs, 20_000)),
        })
      } catch (err) {
        if ((err as Error | undefined)?.name === 'AuthorizationError') {
          throw new NatsUnavailableError(
            `${this.server} refused the credentials (${errorMessage(err)}): fix the user, password or token in the server URL`,
            { server: this.server, cause: err },
          )
        }
        // A certificate that does not verify, or a server without the TLS we require, will not
        // change by retrying: fail now, and never fall back to a plaintext connection.
        const refusal = tlsRefusal(err)
        if (refusal !== undefined) {
          throw new NatsTlsError(`${this.server}: ${refusal}`, { server: this.server, cause: err })
        }
        const left = deadline - Date.now()
        if (left <= 0 || this.users === 0) {
          throw new NatsUnavailableError(
            `could not connect to ${this.server} within ${maxReconnectTimeMs} ms (${attempt} attempts; last: ${errorMessage(err)}): start the server, check the address, or raise maxReconnectTimeMs`,
            { server: this.server, cause: err },
          )
        }
        await new Promise((r) => setTimeout(r, Math.min(reconnectWaitMs, left)))
      }
    }
  }
}

/**
 * The client takes credentials as options, not in the URL: `nats://alice:pw@host` becomes
 * `{ servers: ['nats://host'], user: 'alice', pass: 'pw' }`, `nats://tok@host` a token.
 */
export function withoutCredentials(servers: string | readonly string[]): {
  servers: string[]
  user?: string
  pass?: string
  token?: string
} {
  const out: { servers: string[]; user?: string; pass?: string; token?: string } = { servers: [] }
  for (const server of typeof servers === 'string' ? [servers] : servers) {
    const scheme = server.indexOf('://')
    const start = scheme < 0 ? 0 : scheme + 3
    const at = server.lastIndexOf('@')
    if (at < start) {
      out.servers.push(server)
      continue
    }
    const userInfo = server.slice(start, at)
    const colon = userInfo.indexOf(':')
    if (colon < 0) out.token = decodeURIComponent(userInfo)
    else {
      out.user = decodeURIComponent(userInfo.slice(0, colon))
      out.pass = decodeURIComponent(userInfo.slice(colon + 1))
    }
    out.servers.push(server.slice(0, start) + server.slice(at + 1))
  }
  return out
}

/** `p`, or an `AbortError`-like rejection as soon as `signal` fires (p is left to settle on its own). */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (e) => {
        signal.removeEventListener('abort', onAbort)
        reject(e)
      },
    )
  })
}

/** The message of an unknown thrown value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
