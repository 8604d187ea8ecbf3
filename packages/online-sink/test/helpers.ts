import { tumbling } from '@skewless/core'
import type { OnlineFeatureConfig } from '../src/index.js'

export const FEATURES: OnlineFeatureConfig[] = [
  { name: 'score', valueType: 'double', strategy: 'cas' },
  { name: 'label', valueType: 'string', strategy: 'upsert' },
  { name: 'clicks_5m', valueType: 'int64', strategy: 'additive', window: tumbling('5m') },
]

/** One `FeatureUpdate` (the conformance suite's builder). */
export { upd as up } from '@skewless/adapter-tests'
