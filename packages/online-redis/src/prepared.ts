/**
 * Per-feature constants of a write, computed once per `features` map (the sink passes the same map
 * on every call), so the hot loop only looks them up.
 */
import type { OnlineFeatureConfig } from '@skewless/online-sink'

/** How writes of one feature are sent to the script. */
export interface PreparedFeature {
  readonly config: OnlineFeatureConfig
  /** Written as a tile (strategy `additive`). */
  readonly tile: boolean
  /** Script mode: 'u', 'c' or 't<sizeMs>:<maxTiles>'. */
  readonly mode: string
  /** Physical lifetime (ms) before the event-time shift, or -1 when the key needs none from this feature. */
  readonly lifeMs: number
  /** `px` argument when `lifeMs` is -1: 'P' (persist: other features of the map have a TTL) or ''. */
  readonly noExpiry: string
}

const cache = new WeakMap<ReadonlyMap<string, OnlineFeatureConfig>, Map<string, PreparedFeature>>()

/** The prepared form of every feature of `features` (cached per map). */
export function prepareFeatures(
  features: ReadonlyMap<string, OnlineFeatureConfig>,
  slackMs: number,
): Map<string, PreparedFeature> {
  const hit = cache.get(features)
  if (hit !== undefined) return hit
  let anyTtl = false
  for (const f of features.values())
    if (f.ttlMs !== undefined && (f.strategy ?? 'cas') !== 'additive') anyTtl = true
  const out = new Map<string, PreparedFeature>()
  for (const [name, f] of features) {
    const strategy = f.strategy ?? 'cas'
    if (strategy === 'additive') {
      const w = f.window
      const windowed = w !== undefined && (w.kind === 'tumbling' || w.kind === 'hopping')
      // Tiles are useless once the window has slid past them: expire the tile hash two windows
      // plus a hop after its newest tile (the memory store prunes at the same horizon).
      const lifeMs = windowed
        ? 2 * w.sizeMs + w.hopMs + slackMs
        : f.ttlMs !== undefined
          ? f.ttlMs + slackMs
          : -1
      const mode = windowed ? `t${w.sizeMs}:${Math.floor((2 * w.sizeMs) / w.hopMs) + 1}` : 'c'
      out.set(name, { config: f, tile: true, mode, lifeMs, noExpiry: '' })
    } else {
      out.set(name, {
        config: f,
        tile: false,
        mode: strategy === 'upsert' ? 'u' : 'c',
        lifeMs: f.ttlMs !== undefined ? f.ttlMs + slackMs : -1,
        noExpiry: anyTtl ? 'P' : '',
      })
    }
  }
  cache.set(features, out)
  return out
}
