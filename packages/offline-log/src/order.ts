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
 * Which of two records of one (entity, feature) is the later state: greater eventTime, then greater
 * version, then greater availableTime. Positive when `a` wins.
 */
export function compareState(
  aEv: number,
  aVer: number,
  aAv: number,
  bEv: number,
  bVer: number,
  bAv: number,
): number {
  return aEv - bEv || aVer - bVer || aAv - bAv
}
