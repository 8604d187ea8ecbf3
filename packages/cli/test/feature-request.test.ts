import { describe, expect, it } from 'vitest'
import { featureRequest } from '../src/commands/join.js'
import type { LogFeature } from '../src/types.js'

describe('featureRequest', () => {
  const window = { kind: 'hopping', size: '1h', hop: '5m' }
  const defs: LogFeature[] = [
    { name: 'spend_1h', valueType: 'double', window, aggregate: 'sum', emit: 'tiles' },
    { name: 'clicks_5m', valueType: 'int64', window, aggregate: 'count', emit: 'value' },
    { name: 'plain', valueType: 'double' },
  ]

  it('joins a feature the manifest records as additive tiles over its window, the others by name', () => {
    expect(featureRequest(defs, 'spend_1h')).toEqual({ name: 'spend_1h', window })
    expect(featureRequest(defs, 'clicks_5m')).toBe('clicks_5m')
    expect(featureRequest(defs, 'plain')).toBe('plain')
    expect(featureRequest(defs, 'unknown')).toBe('unknown')
  })
})
