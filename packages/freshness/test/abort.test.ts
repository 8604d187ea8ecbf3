import { AbortedError, type FeatureWrite } from '@skewless/core'
import { memoryLog, type OfflineLog, type ScanOptions } from '@skewless/offline-log'
import { describe, expect, it } from 'vitest'
import { freshnessReport } from '../src/index.js'

const T = Date.UTC(2026, 0, 1)
const MIN = 60_000

describe('freshnessReport: AbortOptions', () => {
  it('hands its signal to the log scans, so an abort from inside a scan stops it with AbortedError', async () => {
    const inner = memoryLog({ features: { x: 'double' } })
    // 30 appends: the memory log yields one batch per append, so there is a "mid-way".
    for (let k = 0; k < 30; k++) {
      const w: FeatureWrite[] = Array.from({ length: 10 }, (_, j) => ({
        entity: `e${j}`,
        feature: 'x',
        value: k,
        eventTime: T + k * MIN,
        availableTime: T + k * MIN + 1000,
        version: 0,
        outcome: 'applied',
      }))
      await inner.append(w)
    }
    const ac = new AbortController()
    const given: (AbortSignal | undefined)[] = []
    let batches = 0
    const log: OfflineLog = {
      ...inner,
      scan(o: ScanOptions) {
        given.push(o.signal)
        const it = inner.scan(o)
        return (async function* () {
          for await (const b of it) {
            yield b
            if (++batches === 3) ac.abort('enough')
          }
        })()
      },
    }
    const err = await freshnessReport(log, { features: ['x'], signal: ac.signal }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AbortedError)
    expect((err as AbortedError).cause).toBe('enough')
    expect(given.length).toBeGreaterThan(0)
    expect(given.every((s) => s === ac.signal)).toBe(true)
    expect(batches).toBeLessThan(30)
    const report = await freshnessReport(inner, { features: ['x'] })
    expect(report.features[0]?.records).toBe(300)
  })
})
