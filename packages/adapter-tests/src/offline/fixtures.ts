import type { FeatureWrite } from '@skewless/core'
import type { FeatureTypes } from '@skewless/offline-log'

/** The features every suite log declares. */
export const OFFLINE_SUITE_FEATURES: FeatureTypes = {
  clicks: 'int64',
  spend: 'double',
  country: 'string',
  active: 'bool',
}

/** A unique prefix per test, so entities never collide between tests sharing storage. */
export function uid(): string {
  return `e${Math.random().toString(36).slice(2, 8)}`
}

/** A FeatureWrite with defaults for the fields a test does not care about. */
export function fw(p: Partial<FeatureWrite> & Pick<FeatureWrite, 'entity' | 'feature'>): FeatureWrite {
  return {
    value: null,
    eventTime: Date.UTC(2026, 10, 1),
    version: 0,
    availableTime: Date.UTC(2026, 10, 1) + 5,
    outcome: 'applied',
    ...p,
  }
}

/** Canonical order for comparing record sets. */
export function byKey(a: FeatureWrite, b: FeatureWrite): number {
  const ka = `${a.feature}\u0000${a.entity}`
  const kb = `${b.feature}\u0000${b.entity}`
  if (ka !== kb) return ka < kb ? -1 : 1
  return a.eventTime - b.eventTime || a.version - b.version || a.availableTime - b.availableTime
}

/** Deterministic PRNG (mulberry32) so random tests are reproducible. */
export function prng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The reference semantics of `stateAt`, written as plainly as possible. */
export function referenceStateAt(
  records: readonly FeatureWrite[],
  t: number,
  by: 'event' | 'available',
  features: readonly string[],
  entities?: readonly string[],
): FeatureWrite[] {
  const best = new Map<string, FeatureWrite>()
  for (const r of records) {
    if (r.outcome === 'stale') continue
    if (!features.includes(r.feature)) continue
    if (entities && !entities.includes(r.entity)) continue
    if ((by === 'event' ? r.eventTime : r.availableTime) > t) continue
    // An additive feature's tiles are held separately: one state per tile.
    const k = `${r.feature}\u0000${r.entity}\u0000${r.tileStart ?? ''}`
    const cur = best.get(k)
    if (
      !cur ||
      r.eventTime > cur.eventTime ||
      (r.eventTime === cur.eventTime && r.version > cur.version) ||
      // one write logged twice (same identity): its earliest copy counts
      (r.eventTime === cur.eventTime && r.version === cur.version && r.availableTime < cur.availableTime)
    ) {
      best.set(k, r)
    }
  }
  const pair = (r: FeatureWrite) => `${r.feature}\u0000${r.entity}`
  const tile = (r: FeatureWrite) => r.tileStart ?? Number.NEGATIVE_INFINITY
  return [...best.values()].sort((a, b) =>
    pair(a) !== pair(b) ? (pair(a) < pair(b) ? -1 : 1) : tile(a) === tile(b) ? 0 : tile(a) < tile(b) ? -1 : 1,
  )
}
