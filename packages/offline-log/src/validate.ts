import type { FeatureWrite, Sink } from '@skewless/core'
import { checkStorableTime, checkValueType, fitsValueType } from '@skewless/core/adapter'
import { InvalidRecordError } from './errors.js'
import type { FeatureTypes, RejectedWrite } from './types.js'

/**
 * Check one record against the declared feature types. Returns `undefined` when it is valid.
 *
 * Choices: times follow core's one rule, `isStorableTime` (whole ms in the UTC years 0000-9999: the
 * log stores Timestamp(ms) / INT64 and partitions by date), the rule the pipeline enforces at its
 * door, so nothing the pipeline passes is refused here; values follow core's one rule, `fitsValueType`
 * (a double may be NaN or ±Infinity: Parquet DOUBLE round-trips them; an int64 is a safe integer;
 * `null` fits every type).
 */
export function checkRecord(r: FeatureWrite, types: Readonly<FeatureTypes>): RejectedWrite | undefined {
  if (r === null || typeof r !== 'object') {
    return {
      record: r,
      reason: 'invalid-value',
      message: 'a FeatureWrite must be an object',
      code: 'invalid-value',
    }
  }
  const type = typeof r.feature === 'string' ? types[r.feature] : undefined
  if (type === undefined) {
    return {
      record: r,
      reason: 'unknown-feature',
      message: `feature ${JSON.stringify(r.feature)} is not declared in the log's \`features\``,
      code: 'unknown-feature',
    }
  }
  if (typeof r.entity !== 'string')
    return { record: r, reason: 'invalid-value', message: 'entity must be a string', code: 'invalid-value' }
  const badTime =
    checkStorableTime(r.eventTime, 'eventTime') ??
    checkStorableTime(r.availableTime, 'availableTime') ??
    (r.tileStart === undefined ? undefined : checkStorableTime(r.tileStart, 'tileStart'))
  if (badTime !== undefined)
    return { record: r, reason: 'invalid-time', message: badTime, code: 'invalid-time' }
  if (!Number.isSafeInteger(r.version)) {
    return {
      record: r,
      reason: 'invalid-value',
      message: `version ${r.version} is not a safe integer`,
      code: 'invalid-value',
    }
  }
  if (r.outcome !== 'applied' && r.outcome !== 'stale') {
    return {
      record: r,
      reason: 'invalid-value',
      message: `outcome ${JSON.stringify(r.outcome)} is not 'applied' or 'stale'`,
      code: 'invalid-value',
    }
  }
  const v = r.value
  if (fitsValueType(v, type)) return undefined
  return {
    record: r,
    reason: 'invalid-value',
    message: `feature "${r.feature}": ${checkValueType(v, type)}`,
    code: 'invalid-value',
  }
}

/**
 * Validate a batch. Valid records are returned (the same array when all are valid); invalid ones go
 * to `deadLetters` when given (awaited), otherwise the whole batch is rejected with an
 * `InvalidRecordError` naming the first bad record.
 */
export async function acceptBatch(
  batch: readonly FeatureWrite[],
  types: Readonly<FeatureTypes>,
  deadLetters: Sink<RejectedWrite> | undefined,
): Promise<readonly FeatureWrite[]> {
  let rejected: RejectedWrite[] | undefined
  let good: FeatureWrite[] | undefined
  for (let i = 0; i < batch.length; i++) {
    const r = batch[i] as FeatureWrite
    const bad = checkRecord(r, types)
    if (bad === undefined) {
      if (good !== undefined) good.push(r)
      continue
    }
    if (rejected === undefined) {
      rejected = []
      good = batch.slice(0, i)
    }
    rejected.push(bad)
  }
  if (rejected === undefined) return batch
  if (deadLetters === undefined) throw new InvalidRecordError(rejected[0] as RejectedWrite, rejected.length)
  await deadLetters.write(rejected)
  return good as FeatureWrite[]
}
