/**
 * The one rule for which of two records of one (entity, feature[, tileStart]) is the newer: the
 * online stores' compare-and-set, the sink's coalescing, the offline log's `stateAt` and the as-of
 * join all follow it, so serving and training pick the same record.
 *
 * - Greater `eventTime` wins, then greater `version` (the number of events of the window at
 *   `eventTime`, docs/decisions/version.md: it grows with the events at one eventTime, whatever
 *   the micro-batches). That is the whole order of the online stores: an equal
 *   `(eventTime, version)` is the same write (the same value), and a compare-and-set refuses it as
 *   stale.
 * - The offline log may hold one write twice (replayed after a crash) with different
 *   `availableTime`s; the copy with the **earliest** `availableTime` counts — when the value first
 *   became readable online. Both copies carry the same value, so this only decides which
 *   `availableTime` a reader reports. (The join kept the latest copy before the rules moved here:
 *   the values agreed, the rule was written twice.)
 */

/** Positive when `(aEt, aVer)` is newer than `(bEt, bVer)`, negative when older, 0 when it is the same write. */
export function compareVersion(aEt: number, aVer: number, bEt: number, bVer: number): number {
  return aEt - bEt || aVer - bVer
}

/** Whether `(aEt, aVer)` is strictly newer than `(bEt, bVer)`: the compare-and-set of every online store. */
export function isNewerVersion(aEt: number, aVer: number, bEt: number, bVer: number): boolean {
  return aEt > bEt || (aEt === bEt && aVer > bVer)
}

/**
 * The record order of the offline log: positive when record `a` wins (see the module's rule), i.e.
 * greater eventTime, then greater version, then the **earlier** availableTime. 0 for two copies of
 * one write logged at the same instant.
 */
export function compareRecord(
  aEt: number,
  aVer: number,
  aAt: number,
  bEt: number,
  bVer: number,
  bAt: number,
): number {
  return aEt - bEt || aVer - bVer || bAt - aAt
}
