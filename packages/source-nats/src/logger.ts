/**
 * The default logger: one line on stderr per message, each distinct message at most once per
 * interval, so a server that flaps does not flood the output; suppressed lines are counted in the
 * next one printed.
 */
import type { NatsSourceLogger } from './types.js'

/** Options of `rateLimitedStderrLogger`. */
export interface RateLimitedLoggerOptions {
  /** Shortest interval (ms) between two lines of the same message. @default 10_000 */
  intervalMs?: number
  /** Where lines go. @default process.stderr */
  write?: (line: string) => void
  /** Clock (ms). @default Date.now */
  now?: () => number
}

/** A `NatsSourceLogger` printing `level message {fields}` lines, rate-limited per message. */
export function rateLimitedStderrLogger(options: RateLimitedLoggerOptions = {}): NatsSourceLogger {
  const intervalMs = options.intervalMs ?? 10_000
  const write = options.write ?? ((line: string) => process.stderr.write(line))
  const now = options.now ?? Date.now
  const last = new Map<string, { at: number; suppressed: number }>()
  const log = (level: string, fields: object, message: string): void => {
    const t = now()
    const seen = last.get(message)
    if (seen !== undefined && t - seen.at < intervalMs) {
      seen.suppressed++
      return
    }
    const suppressed = seen?.suppressed ?? 0
    last.set(message, { at: t, suppressed: 0 })
    const more = suppressed > 0 ? ` (${suppressed} more since the last such line)` : ''
    write(`${new Date(t).toISOString()} ${level} ${message}${more} ${JSON.stringify(fields)}\n`)
  }
  return {
    info: (fields, message) => log('INFO', fields, message),
    warn: (fields, message) => log('WARN', fields, message),
    error: (fields, message) => log('ERROR', fields, message),
  }
}
