/**
 * The parts of a feature definition that both paths read but the operator does not: its TTL and
 * the registry's description, owner and tags. Checked at definition time, like the rest.
 */
import { toMs } from './duration.js'
import { InvalidDefinitionError } from './errors.js'
import type { Duration, FeatureInfo } from './types.js'

/** The metadata fields of a feature spec, before validation. */
export interface FeatureMetadataSpec {
  ttl?: Duration
  description?: string
  owner?: string
  tags?: readonly string[]
}

/**
 * Validate a spec's `ttl`, `description`, `owner` and `tags`; absent fields stay absent.
 * @throws InvalidDefinitionError naming the feature and what to write instead.
 */
export function featureMetadata(
  name: string,
  spec: FeatureMetadataSpec,
): Pick<FeatureInfo, 'ttlMs' | 'description' | 'owner' | 'tags'> {
  const out: Pick<FeatureInfo, 'ttlMs' | 'description' | 'owner' | 'tags'> = {}
  if (spec.ttl !== undefined) {
    let ttlMs: number
    try {
      ttlMs = toMs(spec.ttl, 'ttl')
    } catch (cause) {
      throw new InvalidDefinitionError(
        `core: feature '${name}': ${(cause as Error).message}; e.g. ttl: '1h' or ttl: 3_600_000`,
        { cause },
      )
    }
    // Zero would hide every value the instant it is written: certainly not what was meant.
    if (!(ttlMs > 0)) {
      throw new InvalidDefinitionError(
        `core: feature '${name}': ttl must be longer than 0 ms, got ${String(spec.ttl)}; leave it unset for no TTL`,
      )
    }
    out.ttlMs = ttlMs
  }
  for (const key of ['description', 'owner'] as const) {
    const v = spec[key]
    if (v === undefined) continue
    if (typeof v !== 'string') {
      throw new InvalidDefinitionError(`core: feature '${name}': ${key} must be a string, got ${typeof v}`)
    }
    out[key] = v
  }
  if (spec.tags !== undefined) {
    if (!Array.isArray(spec.tags) || spec.tags.some((t) => typeof t !== 'string' || t.length === 0)) {
      throw new InvalidDefinitionError(
        `core: feature '${name}': tags must be an array of non-empty strings, e.g. tags: ['fraud', 'pii']`,
      )
    }
    out.tags = [...spec.tags]
  }
  return out
}
