import { vectorFromArray } from 'apache-arrow'
import { describe, expect, it } from 'vitest'
import { entityPartition } from '../src/index.js'
import { StringTable } from '../src/string-table.js'

describe('StringTable', () => {
  it('interns and finds short, long, empty and non-ASCII keys across growth', () => {
    const keys = Array.from({ length: 5000 }, (_, i) =>
      i % 3 === 0 ? `u${i}` : i % 3 === 1 ? `a-much-longer-entity-key-${i}-xyz` : `ключ-${i}-é`,
    )
    keys.push('')
    const t = new StringTable(4)
    expect(keys.map((k) => t.internString(k))).toEqual(keys.map((_, i) => i))
    expect(keys.map((k) => t.findString(k))).toEqual(keys.map((_, i) => i))
    expect(t.internString(keys[42] as string)).toBe(42)
    // The per-code hash is the partition hash (FNV-1a of the UTF-8 bytes), whatever the table uses.
    for (const c of [0, 1, 2, 4999, 5000]) expect(t.hash(c) % 7).toBe(entityPartition(keys[c] as string, 7))
    expect(t.size).toBe(keys.length)
    for (const k of [
      'u1',
      'a-much-longer-entity-key-4-xy',
      'a-much-longer-entity-key-4-xyzz',
      'ключ-2-e',
      'zzz',
    ]) {
      expect(t.findString(k)).toBe(-1)
    }
  })

  it('maps Utf8 and Dictionary<Utf8> columns without decoding, nulls and unknowns to -1', () => {
    const t = StringTable.of(['alpha', 'a-long-key-over-twelve-bytes'])
    const cells = ['a-long-key-over-twelve-bytes', null, 'alpha', 'beta', 'alpha']
    for (const v of [vectorFromArray(cells), vectorFromArray(cells.map((c) => c))]) {
      const out = new Int32Array(5)
      expect(t.codes(v.data[0] as never, 0, 5, out)).toBe(true)
      expect([...out]).toEqual([1, -1, 0, -1, 0])
      const part = new Int32Array(2)
      t.codes(v.data[0] as never, 2, 2, part)
      expect([...part]).toEqual([0, -1])
    }
    expect(t.codes(vectorFromArray([1, 2]).data[0] as never, 0, 2, new Int32Array(2))).toBe(false)
  })
})
