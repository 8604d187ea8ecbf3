import type { FeatureWrite } from '@skewless/core'

/**
 * The order of records inside a sorted segment: entity (JS string order, i.e. UTF-16 code units),
 * then eventTime, version, and availableTime as a last deterministic tie-breaker.
 */
export function compareWrites(a: FeatureWrite, b: FeatureWrite): number {
  if (a.entity !== b.entity) return a.entity < b.entity ? -1 : 1
  return a.eventTime - b.eventTime || a.version - b.version || a.availableTime - b.availableTime
}

/**
 * Whether two records are the same write: equal (entity, feature, tileStart, eventTime, version).
 * A log may hold a write twice (a replay after a crash logged it again); readers count it once.
 */
export function sameIdentity(a: FeatureWrite, b: FeatureWrite): boolean {
  return (
    a.eventTime === b.eventTime &&
    a.version === b.version &&
    a.entity === b.entity &&
    a.feature === b.feature &&
    a.tileStart === b.tileStart
  )
}
