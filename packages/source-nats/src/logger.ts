/**
 * The source's default logger: core's rate-limited stderr logger, the one every Skewless component
 * writes with (one line shape, one rule for holding back repeats), with `info` lines on (reconnects,
 * consumer resets) and each message at most once per 10 s, so a server that flaps does not flood the
 * output; what was held back is counted in the next line of that message.
 */
import { type RateLimitedLoggerOptions, rateLimitedLogger } from '@skewless/core/adapter'
import type { NatsSourceLogger } from './types.js'

/** The default `logger` of the NATS sources; `options` (tests) override the interval, output and clock. */
export function defaultNatsLogger(options: RateLimitedLoggerOptions = {}): NatsSourceLogger {
  return rateLimitedLogger({ intervalMs: 10_000, info: true, ...options })
}
