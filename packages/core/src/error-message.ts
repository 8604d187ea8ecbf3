/**
 * The one shape of every Skewless error message, in the manner of unstorage's `createError`:
 * `<component>: <what>`, where `component` is the package name without its scope, optionally
 * followed by the call that failed (`offline-parquet compact`). A message is one short sentence
 * saying what went wrong; when the fix takes more words, they are in the "Errors" section of the
 * package's README, and the message points there.
 */

/** Options of `errorMessage`. */
export interface ErrorMessageOptions {
  /**
   * The package whose README's "Errors" section says what to do (without `@skewless/`), e.g.
   * `'offline-parquet'`; the message then ends by pointing there.
   */
  readme?: string
}

/**
 * `'<component>: <what>'`, optionally pointing at the README section that says what to do:
 * `errorMessage('offline-parquet', 'x is locked', { readme: 'offline-parquet' })` gives
 * `offline-parquet: x is locked (what to do: "Errors" in the @skewless/offline-parquet README)`.
 */
export function errorMessage(component: string, what: string, options?: ErrorMessageOptions): string {
  const see =
    options?.readme === undefined ? '' : ` (what to do: "Errors" in the @skewless/${options.readme} README)`
  return `${component}: ${what}${see}`
}
