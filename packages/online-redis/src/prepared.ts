/**
 * Per-feature constants of a write, computed once per `features` map (the sink passes the same map
 * on every call), so the hot loop only looks them up: the script's spec arguments and each
 * feature's spec reference.
 */
import type { OnlineFeatureConfig } from '@skewless/online-sink'

/** How writes of one feature are sent to the script. */
export interface PreparedFeature {
  readonly config: OnlineFeatureConfig
  /** Written as a tile (strategy `additive`). */
  readonly tile: boolean
  /** Spec id in the script's arguments ('1', '2', ...). */
  readonly ref: string
}

/** The prepared features of one map. */
export interface PreparedFeatures {
  readonly byName: Map<string, PreparedFeature>
  /** Number of specs, as the script's first argument. */
  readonly count: string
  /** 4 strings per spec: mode, field, life, noexp (see script.ts). */
  readonly specArgs: readonly string[]
}

/** The prepared form of every feature of `features`, cached per map object (one cache per store). */
export function prepareFeatures(
  features: ReadonlyMap<string, OnlineFeatureConfig>,
  slackMs: number,
  cache: WeakMap<ReadonlyMap<string, OnlineFeatureConfig>, PreparedFeatures>,
): PreparedFeatures {
  const hit = cache.get(features)
  if (hit !== undefined) return hit
  let anyTtl = false
  for (const f of features.values()) {
    if (f.ttlMs !== undefined && (f.strategy ?? 'cas') !== 'additive') anyTtl = true
  }
  const byName = new Map<string, PreparedFeature>()
  const specArgs: string[] = []
  for (const [name, f] of features) {
    const ref = String(byName.size + 1)
    const strategy = f.strategy ?? 'cas'
    if (strategy === 'additive') {
      const w = f.window
      const windowed = w !== undefined && (w.kind === 'tumbling' || w.kind === 'hopping')
      // Tiles are useless once the window has slid past them: expire the tile hash two windows
      // plus a hop after its newest tile (the memory store prunes at the same horizon).
      const life = windowed
        ? 2 * w.sizeMs + w.hopMs + slackMs
        : f.ttlMs !== undefined
          ? f.ttlMs + slackMs
          : -1
      const mode = windowed ? `t${w.sizeMs}:${Math.floor((2 * w.sizeMs) / w.hopMs) + 1}` : 'c'
      specArgs.push(mode, '', String(life), '')
      byName.set(name, { config: f, tile: true, ref })
    } else {
      const life = f.ttlMs !== undefined ? f.ttlMs + slackMs : -1
      specArgs.push(strategy === 'upsert' ? 'u' : 'c', name, String(life), anyTtl && life < 0 ? 'P' : '')
      byName.set(name, { config: f, tile: false, ref })
    }
  }
  const prepared = { byName, count: String(byName.size), specArgs }
  cache.set(features, prepared)
  return prepared
}
