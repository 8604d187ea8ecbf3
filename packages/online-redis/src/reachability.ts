/**
 * Whether Redis can be reached, and for how long it could not: the bound that turns "retry forever"
 * into a typed failure. A connection failure (a client `error` event, or a call failing with a
 * connection error) starts an outage; a `ready` event or any call that succeeds ends it. Once an
 * outage lasts `unavailableAfter`, every call (and any call still waiting) fails with
 * `RedisUnreachableError`, which is not transient: the sink stops and `run()` rejects with it.
 * Loss and recovery are reported to the logger once per outage.
 */
import type { Logger } from '@skewless/core'
import * as internal from '@skewless/core/internal'
import { RedisUnreachableError } from './errors.js'

/** Tracks one store's outages. */
export class Reachability {
  /** When the current outage began (`Date.now()` ms), or `undefined` while Redis answers. */
  private downSince: number | undefined
  private lastError: unknown
  private failedCalls = 0
  private outages = 0
  /** `close()` began: the connection ending is ours, not an outage. */
  closing = false

  constructor(
    private readonly address: string,
    private readonly unavailableAfterMs: number,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** A connection failed (client event or a call's connection error). Starts an outage if none runs. */
  lost(err: unknown): void {
    if (this.closing) return
    this.lastError = err
    if (this.downSince !== undefined) return
    this.downSince = this.now()
    this.outages++
    this.logger.warn(
      {
        store: 'redis',
        address: this.address,
        error: describe(err),
        unavailableAfterMs: this.unavailableAfterMs,
        outages: this.outages,
      },
      'online-redis: cannot reach Redis; calls fail and are retried until it answers again (unavailableAfter bounds the wait)',
    )
  }

  /** Redis answered: the outage (if any) is over. */
  recovered(): void {
    if (this.downSince === undefined) return
    const downMs = this.now() - this.downSince
    this.logger.warn(
      { store: 'redis', address: this.address, downMs, failedCalls: this.failedCalls },
      'online-redis: Redis can be reached again; the failed calls were retried',
    )
    this.downSince = undefined
    this.failedCalls = 0
    this.lastError = undefined
  }

  /** The error for an outage past the bound, or `undefined` (no outage, or still within it). */
  private expired(): RedisUnreachableError | undefined {
    if (this.downSince === undefined) return undefined
    const downMs = this.now() - this.downSince
    if (downMs < this.unavailableAfterMs) return undefined
    return this.unreachable(downMs)
  }

  private unreachable(downMs: number): RedisUnreachableError {
    return new RedisUnreachableError(
      internal.errorMessage(
        'online-redis',
        `Redis at ${this.address} could not be reached for ${Math.round(downMs)} ms (unavailableAfter: ${this.unavailableAfterMs} ms; last error: ${describe(this.lastError)})`,
        { readme: 'online-redis' },
      ),
      this.address,
      downMs,
      { cause: this.lastError },
    )
  }

  /**
   * Run one store call under the bound: refused at once past it; while an outage runs, a call still
   * waiting at its end fails then (its own result is ignored). A connection error counts toward the
   * outage, a success ends it. `isConnectionError` tells a connection failure from a server reply.
   */
  async guard<T>(call: () => Promise<T>, isConnectionError: (err: unknown) => boolean): Promise<T> {
    const over = this.expired()
    if (over !== undefined) throw over
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      const p = call()
      let result: T
      if (this.downSince === undefined || !Number.isFinite(this.unavailableAfterMs)) result = await p
      else {
        const leftMs = Math.max(0, this.downSince + this.unavailableAfterMs - this.now())
        const deadline = new Promise<never>((_, reject) => {
          // Unref'd: a call waiting on a dead server must not keep the process alive by itself.
          timer = setTimeout(
            () => reject(this.expired() ?? this.unreachable(this.unavailableAfterMs)),
            leftMs,
          )
          timer.unref?.()
        })
        p.catch(() => undefined)
        result = await Promise.race([p, deadline])
      }
      this.recovered()
      return result
    } catch (err) {
      if (err instanceof RedisUnreachableError) throw err
      if (!isConnectionError(err)) {
        // A server reply (even an error) means the server was reached.
        this.recovered()
        throw err
      }
      this.failedCalls++
      this.lost(rootCause(err))
      throw this.expired() ?? err
    } finally {
      if (timer !== undefined) clearTimeout(timer)
    }
  }
}

/** The innermost cause (the connection error ioredis gave up on), for the message. */
function rootCause(err: unknown): unknown {
  let e = err
  for (let depth = 0; depth < 8; depth++) {
    const next = (e as { cause?: unknown } | null)?.cause
    if (next === undefined || next === null) return e
    e = next
  }
  return e
}

function describe(err: unknown): string {
  if (err === undefined) return 'none'
  return internal.redactText(err instanceof Error ? err.message : String(err))
}
