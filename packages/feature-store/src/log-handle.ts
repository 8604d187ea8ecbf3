/**
 * Views of the offline log for the sinks the facade creates: an online sink closes its downstream
 * when it closes, and the log outlives every ingest.
 */
import type { FeatureWrite, Sink } from '@skewless/core'
import type { OfflineLog } from '@skewless/offline-log'

/** The log as a downstream sink whose `close()` only flushes: the log stays open for the next call. */
export function unclosable(log: OfflineLog): Sink<FeatureWrite> {
  return {
    write: (batch) => log.write(batch),
    flush: () => log.flush(),
    close: () => log.flush(),
    // The sink reads the log's dead letters from here (pipeline metrics.logDeadLetters).
    ...(log.metrics === undefined ? {} : { metrics: () => (log.metrics as () => object)() }),
  }
}

/** Whether the log can merge its files (the Parquet log can; the memory log cannot). */
export function compactable(
  log: OfflineLog,
): log is OfflineLog & { compact(options?: object): Promise<unknown> } {
  return typeof (log as { compact?: unknown }).compact === 'function'
}
