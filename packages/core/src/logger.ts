/**
 * The default logger of every Skewless component: warnings and errors to stderr, each distinct
 * message at most once per interval, so a condition that repeats every batch cannot flood the
 * output; what was held back is counted in the next line of that message. `info` is dropped unless
 * asked for: by default only what needs a human.
 */
import type { Logger } from './types.js'

/** Options of `rateLimitedLogger`. */
export interface RateLimitedLoggerOptions {
  /** The same message is written at most once per this many ms. @default 60000 */
  intervalMs?: number
  /** Where a line goes. @default console.warn (stderr in Node) */
  write?: (line: string) => void
  /** Time source for the interval, in ms. @default Date.now */
  now?: () => number
  /** Write `info` lines too (e.g. a source's reconnects), rate-limited like the others. @default false */
  info?: boolean
}

/** A logger that writes `warn` and `error` lines (and `info` with `info: true`), rate-limited per message. */
export function rateLimitedLogger(options: RateLimitedLoggerOptions = {}): Logger {
  const intervalMs = options.intervalMs ?? 60_000
  const write = options.write ?? ((line: string) => console.warn(line))
  const now = options.now ?? Date.now
  // Per message: when it was last written, and how many were held back since.
  const seen = new Map<string, { at: number; held: number }>()
  const log = (level: string, obj: object, msg?: string) => {
    const key = `${level} ${msg ?? ''}`
    const t = now()
    const s = seen.get(key)
    if (s !== undefined && t - s.at < intervalMs) {
      s.held++
      return
    }
    const held = s?.held ?? 0
    seen.set(key, { at: t, held: 0 })
    const fields = held > 0 ? { ...obj, repeated: held } : obj
    write(`[skewless] ${level}: ${msg ?? ''} ${safeJson(fields)}`.trimEnd())
  }
  return {
    warn: (obj, msg) => log('warn', obj, msg),
    error: (obj, msg) => log('error', obj, msg),
    info: options.info === true ? (obj, msg) => log('info', obj, msg) : () => undefined,
  }
}

/** A logger that drops everything (`logger: false` or `null`). */
export const silentLogger: Logger = { warn: () => undefined, info: () => undefined, error: () => undefined }

let shared: Logger | undefined

/**
 * The logger a component uses for its `logger` option: the given one, silence for `false`/`null`,
 * or one rate-limited stderr logger shared by the process (so limits hold across pipelines).
 */
export function resolveLogger(option: Logger | false | null | undefined): Logger {
  if (option === false || option === null) return silentLogger
  if (option !== undefined) return option
  shared ??= rateLimitedLogger()
  return shared
}

function safeJson(obj: object): string {
  try {
    return JSON.stringify(obj)
  } catch {
    return String(obj)
  }
}
