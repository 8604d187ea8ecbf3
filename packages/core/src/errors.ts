/**
 * The error classes Skewless throws. Each has a stable `code`, a message that says what to
 * change, and keeps the underlying `cause`. Adapter packages extend `SkewlessError` too.
 */

/** Options accepted by every Skewless error. */
export interface SkewlessErrorOptions {
  /** The underlying error. */
  cause?: unknown
}

/** Base class: `code` is stable across versions, `message` is for humans. */
export class SkewlessError extends Error {
  /** Stable machine-readable code, e.g. `'invalid-definition'`. */
  readonly code: string

  constructor(code: string, message: string, options?: SkewlessErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
  }
}

/** A feature, window, aggregator or option was defined wrongly. Thrown at definition time. */
export class InvalidDefinitionError extends SkewlessError {
  constructor(message: string, options?: SkewlessErrorOptions) {
    super('invalid-definition', message, options)
  }
}

/** An input record was malformed and the caller asked to fail fast instead of dead-lettering it. */
export class InvalidEventError extends SkewlessError {
  /** Why the event was rejected (same codes as dead letters). */
  readonly reason: string

  constructor(reason: string, message: string, options?: SkewlessErrorOptions) {
    super('invalid-event', message, options)
    this.reason = reason
  }
}

/** Arguments of a call were invalid (missing column, wrong type...). The message names the argument. */
export class InvalidArgumentError extends SkewlessError {
  constructor(message: string, options?: SkewlessErrorOptions) {
    super('invalid-argument', message, options)
  }
}

/** A sink, log or pipeline was used after `close()`. */
export class ClosedError extends SkewlessError {
  constructor(what: string) {
    super('closed', `${what} is closed: create a new one instead of writing after close()`)
  }
}

/** The operation was aborted through an `AbortSignal`. */
export class AbortedError extends SkewlessError {
  constructor(message = 'aborted', options?: SkewlessErrorOptions) {
    super('aborted', message, options)
  }
}

/** A checkpoint could not be restored (wrong version, different feature definitions). */
export class CheckpointMismatchError extends SkewlessError {
  constructor(message: string) {
    super('checkpoint-mismatch', message)
  }
}
