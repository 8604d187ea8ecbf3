/** Errors of @skewless/feature-store (the others come from the packages it drives, unchanged). */
import { SkewlessError } from '@skewless/core'
import { errorMessage } from '@skewless/core/internal'

/** The call needs something the given store or log cannot do (e.g. `compact()` on a memory log). */
export class UnsupportedOperationError extends SkewlessError {
  /** Always `'unsupported'`. */
  declare readonly code: 'unsupported'
  constructor(message: string) {
    super('unsupported', errorMessage('feature-store', message))
  }
}
