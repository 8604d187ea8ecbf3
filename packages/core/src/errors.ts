/**
 * The error classes Skewless throws. Each has a stable `code`, a message that says what to
 * change, and keeps the underlying `cause`. Adapter packages extend `SkewlessError` too.
 */
import type { DeadLetterCode } from './types.js'

/**
 * Every `code` a Skewless error can have, across all `@skewless/*` packages, listed here in one
 * place (see docs/decisions/error-codes.md). What each code means and what to do is in the
 * "Errors" section of the README of the package that throws it.
 */
export const SKEWLESS_ERROR_CODES = [
  // @skewless/core
  'invalid-definition',
  'invalid-event',
  'invalid-argument',
  'closed',
  'aborted',
  'checkpoint-mismatch',
  // @skewless/online-sink
  'store-unavailable',
  'store-timeout',
  'store-write-failed',
  'downstream-failed',
  // @skewless/online-redis
  'permission-denied',
  'store-unreachable',
  'tls-refused',
  'changelog-format',
  // @skewless/offline-log
  'invalid-record',
  'marks-refused',
  // @skewless/offline-parquet
  'corrupt-file',
  'corrupt-journal',
  'corrupt-manifest',
  'commit-failed',
  'log-locked',
  'unstable-listing',
  'read-only',
  'missing-file',
  'foreign-file',
  'roll-forward-failed',
  'log-unwritable',
  'definition-changed',
  // @skewless/asof-join
  'missing-column',
  'column-type',
  'invalid-time',
  'int64-range',
  'entity-type-mismatch',
  'unsupported-record',
  'missing-feature',
  'log-closed',
  // @skewless/source-nats
  'nats-unavailable',
  'nats-consumer',
  'nats-tls',
  // @skewless/feature-store
  'unsupported',
  // @skewless/worker
  'partition-stop',
  // @skewless/cli
  'not-a-log',
  'unsupported-format',
  'input-file',
  'skew-found',
] as const

/**
 * The `code` of a Skewless error: one of `SKEWLESS_ERROR_CODES`. Each error class narrows `code` to
 * its own, so a `switch (err.code)` is checked (and can be made exhaustive) by the compiler.
 */
export type SkewlessErrorCode = (typeof SKEWLESS_ERROR_CODES)[number]

/** Options accepted by every Skewless error. */
export interface SkewlessErrorOptions {
  /** The underlying error. */
  cause?: unknown
}

/** Base class: `code` is stable across versions, `message` is for humans. */
export class SkewlessError extends Error {
  /** Stable machine-readable code, e.g. `'invalid-definition'`; each subclass narrows it to its own. */
  readonly code: SkewlessErrorCode

  constructor(code: SkewlessErrorCode, message: string, options?: SkewlessErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
  }
}

/** A feature, window, aggregator or option was defined wrongly. Thrown at definition time. */
export class InvalidDefinitionError extends SkewlessError {
  /** Always `'invalid-definition'`. */
  declare readonly code: 'invalid-definition'
  constructor(message: string, options?: SkewlessErrorOptions) {
    super('invalid-definition', message, options)
  }
}

/** An input record was malformed and the caller asked to fail fast instead of dead-lettering it. */
export class InvalidEventError extends SkewlessError {
  /** Always `'invalid-event'`. */
  declare readonly code: 'invalid-event'
  /** Machine-readable reason the event was rejected: the code its dead letter would have had. */
  readonly reason: DeadLetterCode

  constructor(reason: DeadLetterCode, message: string, options?: SkewlessErrorOptions) {
    super('invalid-event', message, options)
    this.reason = reason
  }
}

/** Arguments of a call were invalid (missing column, wrong type...). The message names the argument. */
export class InvalidArgumentError extends SkewlessError {
  /** Always `'invalid-argument'`. */
  declare readonly code: 'invalid-argument'
  constructor(message: string, options?: SkewlessErrorOptions) {
    super('invalid-argument', message, options)
  }
}

/** A sink, log or pipeline was used after `close()`. */
export class ClosedError extends SkewlessError {
  /** Always `'closed'`. */
  declare readonly code: 'closed'
  /** `what` names the closed thing (`'memoryLog'`), `component` the package that says so (`'offline-log'`). */
  constructor(what: string, component?: string) {
    const text = `${what} is closed: create a new one instead of writing after close()`
    super('closed', component === undefined ? text : `${component}: ${text}`)
  }
}

/** The operation was aborted through an `AbortSignal`. */
export class AbortedError extends SkewlessError {
  /** Always `'aborted'`. */
  declare readonly code: 'aborted'
  constructor(message = 'aborted', options?: SkewlessErrorOptions) {
    super('aborted', message, options)
  }
}

/** A checkpoint could not be restored (wrong version, different feature definitions). */
export class CheckpointMismatchError extends SkewlessError {
  /** Always `'checkpoint-mismatch'`. */
  declare readonly code: 'checkpoint-mismatch'
  constructor(message: string) {
    super('checkpoint-mismatch', message)
  }
}
