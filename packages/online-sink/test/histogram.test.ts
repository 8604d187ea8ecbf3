import { describe, expect, it } from 'vitest'
import { Histogram } from '../src/adapter.js'

describe('Histogram', () => {
  it('reports quantiles within 12.5% and exact min/max/mean', () => {
    const h = new Histogram()
    for (let i = 1; i <= 10_000; i++) h.record(i / 100) // 0.01 .. 100 ms, uniform
    const s = h.snapshot()
    expect(s.count).toBe(10_000)
    expect(s.min).toBe(0.01)
    expect(s.max).toBe(100)
    expect(s.mean).toBeCloseTo(50.005, 6)
    for (const [q, v] of [
      [s.p50, 50],
      [s.p90, 90],
      [s.p99, 99],
      [s.p999, 99.9],
    ] as const) {
      expect(q).toBeGreaterThanOrEqual(v)
      expect(q).toBeLessThanOrEqual(v * 1.125 + 1e-9)
    }
  })

  it('handles zero, negatives, huge values and NaN; empty snapshot is all zeros', () => {
    const h = new Histogram()
    expect(h.snapshot()).toEqual({ count: 0, min: 0, max: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0 })
    h.record(0)
    h.record(-5)
    h.record(1e12)
    h.record(Number.NaN)
    const s = h.snapshot()
    expect(s.count).toBe(3)
    expect(s.min).toBe(-5)
    expect(s.max).toBe(1e12)
    expect(s.p50).toBeLessThan(0.01)
    expect(s.p999).toBe(1e12)
    h.reset()
    expect(h.count).toBe(0)
  })
})
