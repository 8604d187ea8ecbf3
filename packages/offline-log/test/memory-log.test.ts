import { describe, expect, it } from 'vitest'
import { memoryLog } from '../src/index.js'

describe('memoryLog', () => {
  it('declares itself not durable but sorted', () => {
    const log = memoryLog({
      features: [
        { name: 'x', valueType: 'double', window: { kind: 'unbounded' }, aggregate: 'last', emit: 'value' },
      ],
    })
    expect(log.capabilities).toEqual({ durable: false, sortedSegments: true })
    expect(log.featureTypes).toEqual({ x: 'double' })
  })

  it('rejects bad feature declarations with InvalidDefinitionError', () => {
    expect(() => memoryLog({ features: { x: 'float' as never } })).toThrow(
      /use one of double, int64, string, bool/,
    )
    expect(() => memoryLog({ features: null as never })).toThrow(/features/)
  })

  it('copies records in, so mutating the caller batch does not change the log', async () => {
    const log = memoryLog({ features: { x: 'int64' } })
    const r = {
      entity: 'a',
      feature: 'x',
      value: 1,
      eventTime: 1,
      version: 0,
      availableTime: 1,
      outcome: 'applied' as const,
    }
    await log.append([r])
    r.value = 99
    const [s] = await log.stateAt(10, { features: ['x'] })
    expect(s?.value).toBe(1)
  })
})
