/**
 * The one lifecycle option of Skewless: every call that may run long (a pipeline's `run`, `backfill`,
 * `materialize`, a sink's `flush`/`close`, a log's `compact`, a freshness report, the facade's calls)
 * takes `AbortOptions`, or options that extend it.
 */
export interface AbortOptions {
  /** Stops the call, which then rejects with `AbortedError`; each call says what it keeps. @default none */
  signal?: AbortSignal
}
