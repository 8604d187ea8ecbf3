/**
 * Feeds the server: computes the features of a history of page views into the offline log
 * (`backfill`) and loads Redis with the current values (`materialize`), through the facade.
 */
import { featureStore } from '@skewless/feature-store'
import { parquetLog } from '@skewless/offline-parquet'
import { redisStore } from '@skewless/online-redis'
import { features, type PageView } from './features.js'

/** How long after a view its features are readable online (what the live pipeline would take). */
export const AVAILABILITY_DELAY_MS = 500

/** Options of `loadFeatures`. */
export interface LoadOptions {
  redisUrl: string
  /** Prefix of the Redis keys. @default 'serving-example:' */
  redisPrefix?: string
  /** The offline log's directory. */
  logDir: string
  views: readonly PageView[]
}

/** Backfill the log and materialize Redis as of now; closes what it opened. */
export async function loadFeatures(options: LoadOptions): Promise<{ records: number; loaded: number }> {
  await using fs = await featureStore({
    features,
    online: () => redisStore({ url: options.redisUrl, prefix: options.redisPrefix ?? 'serving-example:' }),
    offline: (definitions) => parquetLog({ dir: options.logDir, features: definitions }),
  })
  const backfilled = await fs.backfill(options.views, { availabilityDelay: AVAILABILITY_DELAY_MS })
  const loaded = await fs.materialize() // the store as the log says it stands now
  return { records: backfilled.records, loaded: loaded.records }
}
