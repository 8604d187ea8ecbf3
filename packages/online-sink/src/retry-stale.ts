/**
 * Resolving the one ambiguity of retries: when a store call failed (timeout, lost connection) after
 * the store had applied some of its writes, the retry finds those writes already stored and CAS
 * reports them `stale` (equal (eventTime, version) is not newer). Reporting them stale would make
 * the offline log disagree with the online store, so on a retry every `stale` CAS or tile write is
 * checked with one read per feature: if the store holds exactly that (eventTime, version), the
 * write is reported `applied` (its `availableTime` is then the retry's acknowledgement, a little
 * later than the instant it really became readable).
 */
import type { FeatureUpdate } from '@skewless/core'
import type { ResolvedFeatureConfig } from './feature-config.js'
import type { ApplyResult, OnlineStore, StoredEntry } from './types.js'

/** Outcomes with `stale` replaced by `applied` where the store holds exactly that write. */
export async function resolveAmbiguousStale(
  store: OnlineStore,
  features: ReadonlyMap<string, ResolvedFeatureConfig>,
  updates: readonly FeatureUpdate[],
  outcomes: ApplyResult['outcomes'],
): Promise<ApplyResult['outcomes']> {
  const byFeature = new Map<string, number[]>()
  for (let i = 0; i < updates.length; i++) {
    if (outcomes[i] !== 'stale') continue
    const u = updates[i] as FeatureUpdate
    const f = features.get(u.feature)
    if (f === undefined || f.strategy === 'upsert') continue
    let idx = byFeature.get(u.feature)
    if (idx === undefined) {
      idx = []
      byFeature.set(u.feature, idx)
    }
    idx.push(i)
  }
  if (byFeature.size === 0) return outcomes
  const out = outcomes.slice()
  for (const [name, idx] of byFeature) {
    const f = features.get(name) as ResolvedFeatureConfig
    const entities = [...new Set(idx.map((i) => (updates[i] as FeatureUpdate).entity))]
    const rows = await store.read(entities, [f])
    const byEntity = new Map<string, StoredEntry>()
    for (let e = 0; e < entities.length; e++) {
      byEntity.set(entities[e] as string, rows[e]?.[0] ?? { kind: 'missing' })
    }
    for (const i of idx) {
      const u = updates[i] as FeatureUpdate
      if (holds(byEntity.get(u.entity), u)) out[i] = 'applied'
    }
  }
  return out
}

function holds(entry: StoredEntry | undefined, u: FeatureUpdate): boolean {
  if (entry === undefined) return false
  if (entry.kind === 'value')
    return entry.stored.eventTime === u.eventTime && entry.stored.version === u.version
  if (entry.kind === 'tiles') {
    for (const t of entry.tiles) {
      if (t.tileStart === u.tileStart) return t.eventTime === u.eventTime && t.version === u.version
    }
  }
  return false
}
