import { describe, expect, it } from 'vitest'
import { progressReporter } from '../src/adapter.js'
import type { Progress } from '../src/index.js'

describe('progressReporter', () => {
  it('reports at once, then at most every intervalMs, and finishes with done === total', async () => {
    const seen: Progress[] = []
    const r = progressReporter((p) => seen.push(p), 'replay', 'event', 1000, 500)
    expect(seen).toEqual([{ done: 0, total: 1000, unit: 'event', phase: 'replay' }])
    for (let i = 0; i < 10; i++) r.add(10) // within 500 ms of the first report: held back
    expect(seen.length).toBe(1)
    await new Promise((res) => setTimeout(res, 520))
    r.add(10)
    expect(seen.at(-1)).toEqual({ done: 110, total: 1000, unit: 'event', phase: 'replay' })
    r.finish()
    expect(seen.at(-1)).toEqual({ done: 1000, total: 1000, unit: 'event', phase: 'replay' })
  })

  it('without a total, the final report gives the count as the total; without a callback it does nothing', () => {
    const seen: Progress[] = []
    const r = progressReporter((p) => seen.push(p), 'scan', 'record')
    r.add(7)
    r.add(5)
    r.finish()
    expect(seen[0]).toEqual({ done: 0, unit: 'record', phase: 'scan' })
    expect(seen.at(-1)).toEqual({ done: 12, total: 12, unit: 'record', phase: 'scan' })
    const silent = progressReporter(undefined, 'scan', 'record')
    expect(() => {
      silent.add(1)
      silent.finish()
    }).not.toThrow()
  })
})
