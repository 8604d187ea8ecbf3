/**
 * What the CLI reports as failures, each with a stable `code` and the exit code a script sees:
 * 1 for a failure (no log there, a log of a newer format, skew found), 2 for a usage error.
 */
import { SkewlessError, type SkewlessErrorOptions } from '@skewless/core'
import { errorMessage } from '@skewless/core/internal'

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const

/** Base class of the CLI's own errors: carries the process exit code. */
export class CliError extends SkewlessError {
  /** One of this family's codes: `not-a-log`, `unsupported-format`, `input-file`, `skew-found`. */
  declare readonly code: 'not-a-log' | 'unsupported-format' | 'input-file' | 'skew-found'
  /** The process exit code this error ends the command with. */
  readonly exitCode: number

  constructor(code: CliError['code'], message: string, exitCode: number, options?: SkewlessErrorOptions) {
    super(code, errorMessage('cli', message), options)
    this.exitCode = exitCode
  }
}

/** The path names no Skewless log: missing, not a directory, or a directory without one. */
export class NotALogError extends CliError {
  /** Always `'not-a-log'`. */
  declare readonly code: 'not-a-log'
  /** The path as given. */
  readonly path: string

  constructor(path: string, why: string, options?: SkewlessErrorOptions) {
    super('not-a-log', `${path}: ${why}`, EXIT.failure, options)
    this.path = path
  }
}

/** The log (or a file of it) was written in a format newer than this CLI reads. */
export class UnsupportedFormatError extends CliError {
  /** Always `'unsupported-format'`. */
  declare readonly code: 'unsupported-format'
  /** The file whose format is newer. */
  readonly file: string

  constructor(file: string, found: string, supported: string) {
    super(
      'unsupported-format',
      `${file} is in format ${found}, newer than the ${supported} this skewless reads: upgrade @skewless/cli`,
      EXIT.failure,
    )
    this.file = file
  }
}

/** An input file other than the log (labels, served values) is missing or does not have the expected columns. */
export class InputFileError extends CliError {
  /** Always `'input-file'`. */
  declare readonly code: 'input-file'
  constructor(message: string, options?: SkewlessErrorOptions) {
    super('input-file', message, EXIT.failure, options)
  }
}

/** The audit found served values that differ from the log: training-serving skew. */
export class SkewFoundError extends CliError {
  /** Always `'skew-found'`. */
  declare readonly code: 'skew-found'
  constructor(mismatches: number, checked: number) {
    super(
      'skew-found',
      `${mismatches} of ${checked} served values differ from the log: training-serving skew`,
      EXIT.failure,
    )
  }
}
