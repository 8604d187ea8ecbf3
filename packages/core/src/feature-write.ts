/** Helpers over the records of `types.ts`. */
import type { FeatureUpdate, FeatureWrite, WriteOutcome } from './types.js'

/**
 * The `FeatureWrite` of an update: its fields (a fresh object, so the update can be reused) plus
 * when it became readable online and whether the store applied it. `tileStart` is kept when set.
 */
export function toFeatureWrite(u: FeatureUpdate, availableTime: number, outcome: WriteOutcome): FeatureWrite {
  const w: FeatureWrite = {
    entity: u.entity,
    feature: u.feature,
    value: u.value,
    eventTime: u.eventTime,
    version: u.version,
    availableTime,
    outcome,
  }
  if (u.tileStart !== undefined) w.tileStart = u.tileStart
  return w
}
