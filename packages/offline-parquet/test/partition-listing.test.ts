import { describe, expect, it } from 'vitest'
import { compactedName, compareIds, newWriterId, segmentName } from '../src/layout.js'
import { resolvePartition } from '../src/partition-listing.js'

const B = { minEventTime: 1, maxEventTime: 2, minAvailableTime: 3, maxAvailableTime: 4 }
const seg = (w: string, s: number) => segmentName(w, s, B)
const out = (w: string, s: number, lo: [string, number], hi: [string, number], part: number, parts: number) =>
  compactedName(w, s, B, {
    lo: { writer: lo[0], seq: lo[1] },
    hi: { writer: hi[0], seq: hi[1] },
    part,
    parts,
  })

describe('resolvePartition: what a listing of a partition means, from names alone', () => {
  const inputs = [seg('aaaa0001', 0), seg('aaaa0001', 3), seg('bbbb0001', 1)]
  const p1 = out('bbbb0001', 5, ['aaaa0001', 0], ['bbbb0001', 1], 1, 2)
  const p2 = out('bbbb0001', 6, ['aaaa0001', 0], ['bbbb0001', 1], 2, 2)
  const later = seg('bbbb0001', 4) // committed by an append while the compaction ran: not in its range

  it('no compaction: everything is live', () => {
    expect(resolvePartition([...inputs, 'x.parquet', '_tmp-1.tmp']).live.map((f) => f.name)).toEqual(
      [...inputs, 'x.parquet'].sort(),
    )
  })
  it('outputs still being renamed (or crashed there): the inputs are the content', () => {
    const r = resolvePartition([...inputs, p1, later])
    expect(r.live.map((f) => f.name).sort()).toEqual([...inputs, later].sort())
    expect(r.aborted).toEqual([p1])
  })
  it('all outputs renamed: the inputs are replaced, even before they are deleted', () => {
    for (const left of [inputs, inputs.slice(1), []]) {
      const r = resolvePartition([...left, p1, p2, later])
      expect(r.live.map((f) => f.name).sort()).toEqual([p1, p2, later].sort())
      expect(r.covered.sort()).toEqual([...left].sort())
    }
  })
  it('an output set missing a part whose inputs are gone is committed (a later compaction took that part)', () => {
    const p3 = out('cccc0001', 0, ['bbbb0001', 6], ['bbbb0001', 6], 1, 1) // replaced p2
    const r = resolvePartition([p1, p3, later])
    expect(r.live.map((f) => f.name).sort()).toEqual([p1, p3, later].sort())
    // ...and while that later compaction is itself incomplete, p2 is still the content
    const q1 = out('cccc0001', 0, ['bbbb0001', 4], ['bbbb0001', 6], 1, 2)
    const r2 = resolvePartition([p1, p2, later, q1])
    expect(r2.live.map((f) => f.name).sort()).toEqual([p1, p2, later].sort())
    expect(r2.aborted).toEqual([q1])
  })
  it('writer ids order by time, and a new writer always sorts after the last one of the directory', () => {
    const a = newWriterId()
    expect(compareIds({ writer: a, seq: 9 }, { writer: a, seq: 10 })).toBeLessThan(0)
    const future = `${(Date.now() + 3_600_000).toString(36)}zzzz` // a writer whose clock was ahead
    const b = newWriterId(future)
    expect(compareIds({ writer: b, seq: 0 }, { writer: future, seq: 99 })).toBeGreaterThan(0)
    expect(b).toMatch(/^[a-z0-9]+$/)
  })
})
