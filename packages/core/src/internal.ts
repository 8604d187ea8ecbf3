/**
 * Shared internals of Skewless's own packages (the role `@most/prelude` plays for most.js): 64-bit
 * integers as 32-bit halves, the one check of numeric options, and the window operator that
 * pipelines and backfill drive. Not part of the public API: it
 * may change in any release. Import from `@skewless/core/internal` (the `internal` namespace on the
 * main entry is deprecated and goes once no package uses it).
 *
 * @packageDocumentation
 */
export { abortedError, raceAbort, throwIfAborted } from './abort.js'
export { durationOption, type ResolvedDuration } from './duration.js'
export { type ErrorMessageOptions, errorMessage } from './error-message.js'
export { divInt64, fromInt64Array, getInt64, int32View, setInt64, TWO_32, toInt64Array } from './int64.js'
export { checkNumber, MAX_TIMER_MS, type NumberRule, numberOption } from './number-option.js'
export { createOperator, type OperatorOptions, type OperatorOutput, WindowOperator } from './operator.js'
export { REDACTED, redactText, redactUrl, redactUrls, registerSecret, scrubError } from './redact.js'
