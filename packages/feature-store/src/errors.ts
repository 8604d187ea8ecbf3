/** Errors of @skewless/feature-store (the others come from the packages it drives, unchanged). */
import { SkewlessError } from '@skewless/core'

/** The call needs something the given store or log cannot do (e.g. `compact()` on a memory log). */
export class UnsupportedOperationError extends SkewlessError {
  constructor(message: string) {
    super('unsupported', `feature-store: ${message}`)
  }
}
