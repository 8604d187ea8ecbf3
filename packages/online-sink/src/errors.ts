/**
 * Errors of the online sink and of online stores. Adapters throw these (or subclasses) so the sink
 * can tell a transient failure (retry it) from a permanent one (dead-letter it) without knowing
 * the client library.
 */
import { AbortedError, SkewlessError, type SkewlessErrorOptions } from '@skewless/core'
import { errorMessage } from '@skewless/core/internal'
import type { PermanentErrorCode } from './types.js'

/** Options of `StoreUnavailableError`. */
export interface StoreUnavailableErrorOptions extends SkewlessErrorOptions {
  /** Whether retrying may succeed (connection lost, timeout, LOADING, TRYAGAIN, CLUSTERDOWN). @default true */
  transient?: boolean
  /** Name of the store, e.g. `'redis'`. */
  store?: string
}

/**
 * The store could not be reached or did not answer. With `transient: true` (the default) the sink
 * retries the whole batch with exponential backoff and full jitter.
 */
export class StoreUnavailableError extends SkewlessError {
  /** `'store-unavailable'`, or the code of a subclass: `'store-timeout'`, `'store-unreachable'`, `'tls-refused'`. */
  declare readonly code: 'store-unavailable' | 'store-timeout' | 'store-unreachable' | 'tls-refused'
  /** Whether retrying may succeed. The sink checks this flag structurally, never with `instanceof`. */
  readonly transient: boolean
  /** Name of the store, when known. */
  readonly store: string | undefined

  constructor(
    message: string,
    options?: StoreUnavailableErrorOptions,
    code: StoreUnavailableError['code'] = 'store-unavailable',
  ) {
    super(code, message, options)
    this.transient = options?.transient ?? true
    this.store = options?.store
  }
}

/** A store call took longer than the sink's `timeoutMs`. Transient: the batch is retried. */
export class StoreTimeoutError extends StoreUnavailableError {
  /** Always `'store-timeout'`. */
  declare readonly code: 'store-timeout'
  /** The timeout that elapsed (ms). */
  readonly timeoutMs: number

  constructor(store: string, timeoutMs: number) {
    super(
      errorMessage(
        'online-sink',
        `online store '${store}' did not answer within ${timeoutMs} ms; the batch is retried (raise timeoutMs if the store is just slow)`,
      ),
      { store, transient: true },
      'store-timeout',
    )
    this.timeoutMs = timeoutMs
  }
}

/**
 * The store refused a whole batch permanently (e.g. a script error). Every write of the batch goes to
 * the dead-letter output with `reason` as its code. Failures of single writes are reported in
 * `ApplyResult.outcomes` instead, so the rest of the batch still lands.
 */
export class StoreWriteError extends SkewlessError {
  /** `'store-write-failed'`, or `'permission-denied'` for a refusal by the store's access control. */
  declare readonly code: 'store-write-failed' | 'permission-denied'
  /** Machine-readable reason: the dead-letter code of the writes of the batch. */
  readonly reason: PermanentErrorCode

  constructor(
    reason: PermanentErrorCode,
    message: string,
    options?: SkewlessErrorOptions,
    code: StoreWriteError['code'] = 'store-write-failed',
  ) {
    super(code, message, options)
    this.reason = reason
  }

  /** The machine-readable reason. @deprecated Read `reason` (the same value; one name across errors). */
  get failure(): PermanentErrorCode {
    return this.reason
  }
}

/**
 * The sink's downstream (e.g. the offline log) or dead-letter sink failed. Acknowledged writes may
 * be missing from the log, so the sink stops: later `write`, `flush` and `close` calls reject with
 * this error (the original failure is the `cause`).
 */
export class DownstreamError extends SkewlessError {
  /** Always `'downstream-failed'`. */
  declare readonly code: 'downstream-failed'
  constructor(what: string, options?: SkewlessErrorOptions) {
    super(
      'downstream-failed',
      errorMessage(
        'online-sink',
        `${what} failed, so acknowledged online writes may be missing from it; fix it and replay the stream from the last checkpoint`,
      ),
      options,
    )
  }
}

/**
 * `flush({ signal })` or `close({ signal })` was aborted while writes were not acknowledged by the
 * store yet (code `aborted`, an `AbortedError`; the signal's reason is the `cause`). After an aborted
 * `flush` those writes stay buffered and are still retried; after an aborted `close` they went to
 * the dead-letter output, and this error means there was none to take them.
 */
export class SinkAbortedError extends AbortedError {
  /** Writes (after coalescing) the store had not acknowledged when the signal aborted. */
  readonly unacknowledged: number

  constructor(message: string, unacknowledged: number, options?: SkewlessErrorOptions) {
    super(message, options)
    this.unacknowledged = unacknowledged
  }
}

/**
 * Whether an error says the store cannot be reached for good (code `store-unreachable`, e.g. Redis
 * unreachable for its `unavailableAfter`): the sink then stops instead of dead-lettering each write.
 * Checked structurally.
 */
export function isStoreUnreachable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'store-unreachable'
}

/** Whether an error is worth retrying: any error with `transient: true` (checked structurally). */
export function isTransientError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { transient?: unknown }).transient === true
}

const PERMANENT_CODES: ReadonlySet<string> = new Set([
  'wrong-type',
  'script-error',
  'serialization',
  'unknown-feature',
  'rejected',
])

/**
 * The dead-letter code of a permanent batch failure: `StoreWriteError.reason` when present (or the
 * deprecated `failure` of an adapter's own error), else `'rejected'`.
 */
export function permanentCodeOf(err: unknown): PermanentErrorCode {
  const e =
    typeof err === 'object' && err !== null ? (err as { reason?: unknown; failure?: unknown }) : undefined
  const f = typeof e?.reason === 'string' && PERMANENT_CODES.has(e.reason) ? e.reason : e?.failure
  return typeof f === 'string' && PERMANENT_CODES.has(f) ? (f as PermanentErrorCode) : 'rejected'
}

/** A readable message of any thrown value. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
