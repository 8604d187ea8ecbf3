/**
 * The definitions a log records about itself, as the join's defaults: a log that can `describe()`
 * its features (the Parquet log's manifest) needs no repeated TTL or tile window in the request.
 */
import { ClosedError, type FeatureInfo } from '@skewless/core'
import type { AsOfJoinOptions, LogInput } from './types.js'

/** What a self-describing log returns: its definitions, or an object holding them as `features`. */
type Description = readonly FeatureInfo[] | { features?: readonly FeatureInfo[] } | undefined

/**
 * `options` with `definitions` read from `log.describe()` when the caller gave none and the log has
 * one; otherwise `options` itself. The description's other parts (files, marks) are ignored.
 */
export async function withLogDefinitions(log: LogInput, options: AsOfJoinOptions): Promise<AsOfJoinOptions> {
  if (!options || options.definitions !== undefined) return options
  const describe = (log as { describe?: unknown }).describe
  if (typeof describe !== 'function') return options
  let d: Description
  try {
    d = (await describe.call(log)) as Description
  } catch (err) {
    // A closed log: the scan that follows reports it (LogClosedError), as without definitions.
    if (err instanceof ClosedError) return options
    throw err
  }
  const definitions = Array.isArray(d)
    ? d
    : (d as { features?: readonly FeatureInfo[] } | undefined)?.features
  return Array.isArray(definitions) ? { ...options, definitions } : options
}
