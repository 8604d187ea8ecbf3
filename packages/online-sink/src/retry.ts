/** Backoff and timeout helpers of the sink (one timer per store call, never per event). */
import { StoreTimeoutError } from './errors.js'

/** `RetryOptions` with defaults filled in. */
export interface RetryPolicy {
  retries: number
  minDelayMs: number
  maxDelayMs: number
  factor: number
}

/**
 * Delay before retry number `attempt` (0-based): "full jitter", uniform in
 * `[0, min(maxDelayMs, minDelayMs · factor^attempt))`, so sinks that failed together do not retry together.
 */
export function backoffDelay(p: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const cap = Math.min(p.maxDelayMs, p.minDelayMs * p.factor ** attempt)
  return random() * cap
}

/**
 * `promise`, or a `StoreTimeoutError` after `timeoutMs` (no timeout when it is not a finite number > 0).
 * The store call itself cannot be cancelled: a late answer is ignored, and the retry must be
 * idempotent (it is: CAS and tile writes carry their full state and version).
 */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, store: string): Promise<T> {
  if (!(timeoutMs > 0 && timeoutMs < Number.POSITIVE_INFINITY)) return promise
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new StoreTimeoutError(store, timeoutMs)), timeoutMs)
    promise.then(
      (v) => {
        clearTimeout(timer)
        resolve(v)
      },
      (e) => {
        clearTimeout(timer)
        reject(e)
      },
    )
  })
}

/**
 * Sleep `ms` (a backoff before a retry). While it sleeps its wake-up is in `sleepers`: calling it
 * resolves the sleep at once, so a sink that gives up can cut every backoff short.
 */
export function interruptibleSleep(ms: number, sleepers: Set<() => void>): Promise<void> {
  return new Promise<void>((resolve) => {
    const wake = (): void => {
      clearTimeout(timer)
      sleepers.delete(wake)
      resolve()
    }
    const timer = setTimeout(wake, ms)
    sleepers.add(wake)
  })
}
