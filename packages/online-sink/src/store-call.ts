/** One store call of the sink: timeout, retries with backoff and full jitter, and the retry ambiguity. */
import type { FeatureUpdate } from '@skewless/core'
import { isTransientError, StoreWriteError } from './errors.js'
import type { ResolvedFeatureConfig } from './feature-config.js'
import type { Histogram } from './histogram.js'
import { backoffDelay, type RetryPolicy, withTimeout } from './retry.js'
import { resolveAmbiguousStale } from './retry-stale.js'
import type { ApplyOptions, ApplyResult, OnlineStore } from './types.js'

/** What a store call needs from the sink. */
export interface StoreCallContext {
  store: OnlineStore
  features: ReadonlyMap<string, ResolvedFeatureConfig>
  /** Passed to every `apply` (e.g. `{ changelog: false }`); undefined for the store's defaults. */
  applyOptions: ApplyOptions | undefined
  timeoutMs: number
  policy: RetryPolicy
  /** Records the latency of every answered call. */
  latency: Histogram
  /** Called once per retry, with the transient failure being retried. */
  onRetry(err: unknown): void
  /** Wait `ms` before a retry; cut short when the sink gives up (an aborted `close`). */
  backoff(ms: number): Promise<void>
  /** Whether the sink gave up on its unacknowledged writes (aborted close, failed output): retry no more. */
  stopped(): boolean
}

/**
 * Apply a batch, retrying transient failures (`transient: true`, timeouts included) with backoff.
 * Resolves with the outcomes, or with `{ error }` for a permanent failure or when retries ran out
 * (the last transient error), or with `{ error, stopped }` when the sink stopped retrying. Never rejects.
 */
export async function applyWithRetries(
  ctx: StoreCallContext,
  updates: FeatureUpdate[],
): Promise<ApplyResult['outcomes'] | { error: unknown; stopped?: true }> {
  const { store, features } = ctx
  for (let attempt = 0; ; attempt++) {
    try {
      const start = performance.now()
      const res = await withTimeout(
        ctx.applyOptions === undefined
          ? store.apply(updates, features)
          : store.apply(updates, features, ctx.applyOptions),
        ctx.timeoutMs,
        store.name,
      )
      ctx.latency.record(performance.now() - start)
      const outcomes = res?.outcomes
      if (!Array.isArray(outcomes) || outcomes.length !== updates.length) {
        throw new StoreWriteError(
          'rejected',
          `online-sink: online store '${store.name}' returned ${outcomes?.length} outcomes for ${updates.length} writes; fix the adapter`,
        )
      }
      // After a failed attempt the earlier one may have landed: its retry then reads as stale.
      // That read is a store call too: it gets the timeout (a hung read would hold the batch forever).
      if (attempt === 0) return outcomes
      return await withTimeout(
        resolveAmbiguousStale(store, features, updates, outcomes),
        ctx.timeoutMs,
        store.name,
      )
    } catch (e) {
      if (!isTransientError(e) || attempt >= ctx.policy.retries) return { error: e }
      if (ctx.stopped()) return { error: e, stopped: true }
      ctx.onRetry(e)
      await ctx.backoff(backoffDelay(ctx.policy, attempt))
      if (ctx.stopped()) return { error: e, stopped: true }
    }
  }
}
