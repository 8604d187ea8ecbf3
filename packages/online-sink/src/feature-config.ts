/** Validation of `OnlineFeatureConfig` lists, shared by the sink and the reader. */

import type { Duration, FeatureInfo } from '@skewless/core'
import { InvalidDefinitionError } from '@skewless/core'
import { isValueType, VALUE_TYPES } from '@skewless/core/adapter'
import { durationOption } from '@skewless/core/internal'
import type { OnlineFeatureConfig, OnlineStore, WriteStrategy } from './types.js'

/** A validated feature config with its defaults filled in. */
export interface ResolvedFeatureConfig extends OnlineFeatureConfig {
  strategy: WriteStrategy
  /** Position in the config list: a short, unique prefix for the sink's key strings. */
  index: number
}

const STRATEGIES: ReadonlySet<string> = new Set(['upsert', 'cas', 'additive'])

/**
 * Check a feature list against a store's capabilities and index it by name.
 * @throws InvalidDefinitionError naming the feature and what to change.
 */
export function resolveFeatures(
  features: readonly OnlineFeatureConfig[],
  store: OnlineStore,
  who: string,
): Map<string, ResolvedFeatureConfig> {
  if (!Array.isArray(features) || features.length === 0) {
    throw new InvalidDefinitionError(`${who} needs a non-empty \`features\` list of OnlineFeatureConfig`)
  }
  const out = new Map<string, ResolvedFeatureConfig>()
  for (let i = 0; i < features.length; i++) {
    const f = features[i] as OnlineFeatureConfig
    const at = `${who}: feature '${f?.name}'`
    if (typeof f?.name !== 'string' || f.name === '') {
      throw new InvalidDefinitionError(`${who}: features[${i}] needs a non-empty string \`name\``)
    }
    if (out.has(f.name)) throw new InvalidDefinitionError(`${at} is listed twice; list each feature once`)
    if (!isValueType(f.valueType)) {
      throw new InvalidDefinitionError(
        `${at} has valueType '${f.valueType}'; use one of ${VALUE_TYPES.join(', ')}`,
      )
    }
    const strategy = f.strategy ?? 'cas'
    if (!STRATEGIES.has(strategy)) {
      throw new InvalidDefinitionError(`${at} has strategy '${strategy}'; use 'upsert', 'cas' or 'additive'`)
    }
    if (strategy === 'cas' && !store.capabilities.cas) {
      throw new InvalidDefinitionError(
        `${at} uses strategy 'cas' but store '${store.name}' has no compare-and-set; use 'upsert' or another store`,
      )
    }
    if (strategy === 'additive') {
      if (!store.capabilities.additive) {
        throw new InvalidDefinitionError(
          `${at} uses strategy 'additive' but store '${store.name}' cannot keep tiles; use 'cas' with emit 'value'`,
        )
      }
      const w = f.window
      if (!w || (w.kind !== 'tumbling' && w.kind !== 'hopping')) {
        throw new InvalidDefinitionError(
          `${at} uses strategy 'additive' and needs a tumbling or hopping \`window\` (the one its tiles were emitted for)`,
        )
      }
      // Hand-built windows skip the checks of core's tumbling() / hopping(): the reader's sum and
      // the store's pruning divide by them.
      const { sizeMs, hopMs } = w
      if (
        !Number.isInteger(sizeMs) ||
        sizeMs <= 0 ||
        !Number.isInteger(hopMs) ||
        hopMs <= 0 ||
        sizeMs % hopMs !== 0
      ) {
        throw new InvalidDefinitionError(
          `${at} has a ${w.kind} window with sizeMs ${sizeMs} and hopMs ${hopMs}; use whole ms > 0 with a size that is a multiple of the hop, e.g. tumbling('5m') or hopping('5m', '1m') from @skewless/core`,
        )
      }
      if (f.valueType !== 'double' && f.valueType !== 'int64') {
        throw new InvalidDefinitionError(`${at} is additive, so its valueType must be double or int64`)
      }
    }
    if (f.ttlMs !== undefined && !(typeof f.ttlMs === 'number' && f.ttlMs > 0)) {
      throw new InvalidDefinitionError(
        `${at} has ttlMs ${f.ttlMs}; use a number of ms > 0, or leave it unset`,
      )
    }
    out.set(f.name, { ...f, strategy, index: i })
  }
  return out
}

/**
 * What `onlineFeatures` may change of one feature's online config. The TTL is an option: give it as
 * `ttl`, a `Duration` (`'1h'`); `ttlMs`, the config's own field, still works (deprecated here).
 */
export interface OnlineFeatureOverride extends Partial<Omit<OnlineFeatureConfig, 'name'>> {
  /** Serving TTL, a `Duration`; sets the config's `ttlMs`. */
  ttl?: Duration
}

/**
 * Online configs for the features a pipeline defines (`group.describe()`): features emitted as
 * tiles are written `additive` with their window, the others `cas`; each takes its definition's TTL
 * (`FeatureInfo.ttlMs`, from the spec's `ttl`). `overrides` sets per feature what to change (e.g.
 * `{ last_page: { ttl: '1h' } }` or `{ label: { strategy: 'upsert' } }`); an override of the
 * TTL makes serving differ from the definition the join and the audit apply, so give them the same.
 * @throws InvalidDefinitionError when an override gives `ttl` and `ttlMs` both, or a `ttl` that is no duration.
 */
export function onlineFeatures(
  infos: readonly FeatureInfo[],
  overrides: Readonly<Record<string, OnlineFeatureOverride>> = {},
): OnlineFeatureConfig[] {
  return infos.map((i) => {
    const c: OnlineFeatureConfig = {
      name: i.name,
      valueType: i.valueType,
      strategy: i.emit === 'tiles' ? 'additive' : 'cas',
    }
    if (i.emit === 'tiles') c.window = i.window
    if (i.ttlMs !== undefined) c.ttlMs = i.ttlMs
    const o = overrides[i.name]
    if (o === undefined) return c
    const { ttl, ...rest } = o
    const out: OnlineFeatureConfig = { ...c, ...rest }
    // A number ttlMs passes through unchecked here, as before (resolveFeatures checks every config).
    const t = durationOption(`onlineFeatures: ${i.name}`, 'ttl', ttl, 'ttlMs', o.ttlMs).ms
    if (t !== undefined) out.ttlMs = t
    return out
  })
}
