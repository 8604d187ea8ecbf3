/** Validation and defaults of `OnlineSinkOptions` (everything but the store and features). */
import { type Clock, type Duration, systemClock } from '@skewless/core'
import { checkNumber, durationOption, MAX_TIMER_MS, type NumberRule } from '@skewless/core/internal'
import type { RetryPolicy } from './retry.js'
import type { OnlineSinkOptions } from './types.js'

/** `OnlineSinkOptions` with defaults filled in. */
export interface SinkSettings {
  clock: Clock
  forwardStale: boolean
  changelog: boolean
  maxBatchSize: number
  lingerMs: number
  maxInFlight: number
  maxBuffered: number
  timeoutMs: number
  policy: RetryPolicy
}

function num(name: string, v: number | undefined, dflt: number, rule: NumberRule): number {
  return v === undefined ? dflt : checkNumber('onlineSink', name, v, rule)
}

/** A duration option (`Duration`, or its deprecated `*Ms` form), checked as `num` checks numbers. */
function dur(
  name: string,
  v: Duration | undefined,
  legacyName: string,
  legacy: number | undefined,
  dflt: number,
  rule: NumberRule,
): number {
  const d = durationOption('onlineSink', name, v, legacyName, legacy)
  return num(d.name, d.ms, dflt, rule)
}

const COUNT: NumberRule = { min: 1, integer: true }
const DELAY: NumberRule = { min: 0, max: MAX_TIMER_MS, ms: true }

/**
 * Check the options and fill in the defaults. `Infinity` is allowed only for `retry.retries` (retry
 * forever); everything else must be finite (a buffer or a concurrency without bound is a memory leak,
 * and a timer longer than 2^31 − 1 ms fires at once).
 * @throws InvalidDefinitionError naming the option and its allowed range.
 */
export function sinkSettings(o: OnlineSinkOptions): SinkSettings {
  const r = o.retry
  const minDelayMs = dur('retry.minDelay', r?.minDelay, 'retry.minDelayMs', r?.minDelayMs, 20, DELAY)
  return {
    clock: o.clock ?? systemClock,
    forwardStale: o.forwardStale ?? true,
    changelog: o.changelog ?? true,
    maxBatchSize: num('maxBatchSize', o.maxBatchSize, 1000, COUNT),
    lingerMs: dur('linger', o.linger, 'lingerMs', o.lingerMs, 1, {
      ...DELAY,
      hint: 'use 0 to send every batch at once',
    }),
    maxInFlight: num('maxInFlightBatches', o.maxInFlightBatches, 8, COUNT),
    maxBuffered: num('maxBufferedUpdates', o.maxBufferedUpdates, 100_000, {
      ...COUNT,
      hint: 'memory grows with it (buffered updates and remembered idle keys): use a large whole number instead',
    }),
    timeoutMs: dur('timeout', o.timeout, 'timeoutMs', o.timeoutMs, 5000, {
      ...DELAY,
      hint: 'use 0 for no timeout',
    }),
    policy: {
      retries: num('retry.retries', r?.retries, Number.POSITIVE_INFINITY, {
        min: 0,
        integer: true,
        infinity: true,
      }),
      minDelayMs,
      maxDelayMs: dur(
        'retry.maxDelay',
        r?.maxDelay,
        'retry.maxDelayMs',
        r?.maxDelayMs,
        Math.max(2000, minDelayMs),
        {
          ...DELAY,
          min: minDelayMs,
        },
      ),
      factor: num('retry.factor', r?.factor, 2, { min: 1 }),
    },
  }
}
