/**
 * What the skew audit asks of the join for each audited feature: the TTL and tile window the reader
 * applied, from the reader's configs, else from the feature definitions.
 */
import type { FeatureInfo } from '@skewless/core'
import { withLogDefinitions } from './log-definitions.js'
import type { AuditFeatureConfig, SkewAuditOptions } from './skew-audit.js'
import type { FeatureRequest, LogInput } from './types.js'

/**
 * One request per feature name. A reader config, when given, says what the reader applied (no TTL
 * there: none on the log side, whatever the definition says); without one, the definition's `ttlMs`
 * and tile window are what `onlineFeatures` gave the reader. `options.maxAge` overrides both. The
 * definitions are `options.definitions`, else what the log's `describe()` records, read once here.
 */
export async function auditRequests(
  names: Iterable<string>,
  configs: ReadonlyMap<string, AuditFeatureConfig>,
  options: SkewAuditOptions,
  log: LogInput,
): Promise<FeatureRequest[]> {
  const features = [...names]
  const given = options.definitions === undefined ? {} : { definitions: options.definitions }
  const { definitions } = await withLogDefinitions(log, { features, ...given })
  const defs = new Map<string, FeatureInfo>()
  for (const d of definitions ?? []) if (typeof d?.name === 'string') defs.set(d.name, d)
  return features.map((name) => {
    const c = configs.get(name)
    const d = defs.get(name)
    const r: FeatureRequest = { name, includeEventTime: true }
    const maxAge =
      options.maxAge?.[name] ?? (c === undefined ? d?.ttlMs : (c.ttlMs ?? Number.POSITIVE_INFINITY))
    if (maxAge !== undefined) r.maxAge = maxAge
    const window =
      c === undefined
        ? d?.emit === 'tiles'
          ? d.window
          : undefined
        : c.strategy === 'additive'
          ? c.window
          : undefined
    if (window !== undefined) r.window = window
    return r
  })
}
