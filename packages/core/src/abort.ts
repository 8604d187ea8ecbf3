import { AbortedError } from './errors.js'

/**
 * The one lifecycle option of Skewless: every call that may run long (a pipeline's `run`, `flush`,
 * `close` and `checkpoint`, `backfill`, `materialize`, a sink's `flush`/`close`, a log's `scan`,
 * `stateAt` and `compact`, `asOfJoin`, `skewAudit`, the online reader's `get`, a freshness report,
 * the facade's calls) takes `AbortOptions`, or options that extend it. See
 * docs/decisions/lifecycle.md.
 */
export interface AbortOptions {
  /** Stops the call, which then rejects with `AbortedError`; each call says what it keeps. @default none */
  signal?: AbortSignal
}

/**
 * Throw `AbortedError` (carrying `signal.reason` as its cause) when `signal` has aborted: the check a
 * long call makes before it starts and between two units of work (a batch, a file, a round trip).
 * `what` names the call in the message, e.g. `'offline-parquet scan'`.
 */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortedError(signal, what)
}

/** The `AbortedError` of a call stopped by `signal`. */
export function abortedError(signal: AbortSignal, what: string): AbortedError {
  return new AbortedError(`${what}: aborted`, { cause: signal.reason })
}

/**
 * `p`, or an `AbortedError` as soon as `signal` aborts (what `p` does is not undone: it settles
 * unobserved). For a wait that cannot itself be interrupted, such as one store round trip.
 */
export function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (signal === undefined) return p
  if (signal.aborted) {
    p.catch(() => undefined)
    return Promise.reject(abortedError(signal, what))
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      p.catch(() => undefined)
      reject(abortedError(signal, what))
    }
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(e)
      },
    )
  })
}
