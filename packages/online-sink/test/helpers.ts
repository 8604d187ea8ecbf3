import type { FeatureUpdate } from '@skewless/core'
import { tumbling } from '@skewless/core'
import type { OnlineFeatureConfig } from '../src/index.js'

export const FEATURES: OnlineFeatureConfig[] = [
  { name: 'score', valueType: 'double', strategy: 'cas' },
  { name: 'label', valueType: 'string', strategy: 'upsert' },
  { name: 'clicks_5m', valueType: 'int64', strategy: 'additive', window: tumbling('5m') },
]

export function up(
  entity: string,
  feature: string,
  value: FeatureUpdate['value'],
  eventTime: number,
  version = 0,
  tileStart?: number,
): FeatureUpdate {
  const u: FeatureUpdate = { entity, feature, value, eventTime, version }
  if (tileStart !== undefined) u.tileStart = tileStart
  return u
}
