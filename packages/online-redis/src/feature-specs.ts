/**
 * Per-feature constants of a write, computed once per `features` map (the sink passes the same map
 * on every call), so the hot loop only looks them up: the script's spec arguments of each feature.
 */
import type { OnlineFeatureConfig } from '@skewless/online-sink'
import { checkFeatureName } from './keys.js'

/** How writes of one feature are sent to the script. */
export interface PreparedFeature {
  readonly config: OnlineFeatureConfig
  /** Position in the map (spec index). */
  readonly index: number
  /** Written as a tile (strategy `additive`): each write carries its field (tileStart). */
  readonly tile: boolean
  /** Spec arguments without the count: mode, field, life, noexp (see script.ts). */
  readonly spec: readonly [string, string, string, string]
}

/** The prepared features of one map. */
export interface PreparedFeatures {
  readonly byName: Map<string, PreparedFeature>
  /** By spec index. */
  readonly list: readonly PreparedFeature[]
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
  const list: PreparedFeature[] = []
  for (const [name, f] of features) {
    const index = list.length
    const strategy = f.strategy ?? 'cas'
    let p: PreparedFeature
    if (strategy === 'additive') {
      // Its name is part of the tile hash's key (a value feature's is only a hash field).
      checkFeatureName(name)
      const w = f.window
      const windowed = w !== undefined && (w.kind === 'tumbling' || w.kind === 'hopping')
      // The hash must outlive what a reader can still see: after the newest tile leaves the window
      // the value reads 0 (decayed) until the TTL hides it, `size + ttl` after that tile's
      // start at the latest; without a TTL a decayed 0 stays readable, like a value feature's.
      // (Tiles that slid out of every window are pruned inside the hash by the script.)
      const life = f.ttlMs === undefined ? -1 : lifeMs((windowed ? w.sizeMs : 0) + f.ttlMs + slackMs)
      const mode = windowed ? `t${w.sizeMs}:${Math.floor((2 * w.sizeMs) / w.hopMs) + 1}` : 'c'
      p = { config: f, index, tile: true, spec: [mode, '', String(life), ''] }
    } else {
      const life = f.ttlMs !== undefined ? lifeMs(f.ttlMs + slackMs) : -1
      const mode = strategy === 'upsert' ? 'u' : 'c'
      p = { config: f, index, tile: false, spec: [mode, name, String(life), anyTtl && life < 0 ? 'P' : ''] }
    }
    byName.set(name, p)
    list.push(p)
  }
  const prepared = { byName, list }
  cache.set(features, prepared)
  return prepared
}

/** Above this a lifetime is no expiry: Lua would format it with an exponent, which PEXPIRE refuses. */
const MAX_LIFE_MS = 1e15

/**
 * A physical lifetime as PEXPIRE takes it: whole ms, rounded up (never earlier than the reader's
 * TTL), or -1 (none) for `ttlMs: Infinity` and absurdly long ones. PEXPIRE refuses a fraction
 * with an error that fails the whole script call after its writes landed.
 */
function lifeMs(ms: number): number {
  return ms < MAX_LIFE_MS ? Math.ceil(ms) : -1
}
