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
 * Which of two records of one (entity, feature[, tileStart]) is the state: greater eventTime, then
 * greater version; at equal eventTime and version the two are one write (its identity is (entity,
 * feature, tileStart, eventTime, version)) logged twice, e.g. replayed after a crash, and the copy
 * with the **earliest** availableTime counts — when the value first became readable. Positive when `a` wins.
 */
export function compareState(
  aEv: number,
  aVer: number,
  aAv: number,
  bEv: number,
  bVer: number,
  bAv: number,
): number {
  return aEv - bEv || aVer - bVer || bAv - aAv
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
