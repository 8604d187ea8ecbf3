/** Validation and defaults of `OnlineSinkOptions` (everything but the store and features). */
import { type Clock, InvalidDefinitionError, systemClock } from '@skewless/core'
import type { RetryPolicy } from './retry.js'
import type { OnlineSinkOptions } from './types.js'

/** `OnlineSinkOptions` with defaults filled in. */
export interface SinkSettings {
  clock: Clock
  forwardStale: boolean
  maxBatchSize: number
  lingerMs: number
  maxInFlight: number
  maxBuffered: number
  timeoutMs: number
  policy: RetryPolicy
}

function num(name: string, v: number | undefined, dflt: number, min: number, integer: boolean): number {
  if (v === undefined) return dflt
  if (
    typeof v !== 'number' ||
    Number.isNaN(v) ||
    v < min ||
    (integer && !Number.isInteger(v) && v !== Infinity)
  ) {
    throw new InvalidDefinitionError(
      `onlineSink: ${name} must be ${integer ? 'a whole number' : 'a number'} >= ${min}, got ${v}`,
    )
  }
  return v
}

/**
 * Check the options and fill in the defaults.
 * @throws InvalidDefinitionError naming the option and its allowed range.
 */
export function sinkSettings(o: OnlineSinkOptions): SinkSettings {
  const r = o.retry
  const minDelayMs = num('retry.minDelayMs', r?.minDelayMs, 20, 0, false)
  return {
    clock: o.clock ?? systemClock,
    forwardStale: o.forwardStale ?? true,
    maxBatchSize: num('maxBatchSize', o.maxBatchSize, 1000, 1, true),
    lingerMs: num('lingerMs', o.lingerMs, 1, 0, false),
    maxInFlight: num('maxInFlightBatches', o.maxInFlightBatches, 8, 1, true),
    maxBuffered: num('maxBufferedUpdates', o.maxBufferedUpdates, 100_000, 1, true),
    timeoutMs: num('timeoutMs', o.timeoutMs, 5000, 0, false),
    policy: {
      retries: num('retry.retries', r?.retries, Number.POSITIVE_INFINITY, 0, true),
      minDelayMs,
      maxDelayMs: num('retry.maxDelayMs', r?.maxDelayMs, Math.max(2000, minDelayMs), minDelayMs, false),
      factor: num('retry.factor', r?.factor, 2, 1, false),
    },
  }
}
