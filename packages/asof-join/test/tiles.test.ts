import { hopping, InvalidArgumentError, tumbling } from '@skewless/core'
import { memoryLog } from '@skewless/offline-log'
import { describe, expect, it } from 'vitest'
import { asOfJoin, asOfJoinTable, type FeatureRequest, UnsupportedRecordError } from '../src/index.js'
import { logTable, type Rec } from './helpers/fake-log.js'

const W = hopping(30, 10)
const base = { entity: 'a', feature: 'c', version: 0, outcome: 'applied' as const }

/** A tile record: value `value` for tile `tileStart`, at eventTime `et`, available at `at`. */
function tile(tileStart: number, value: number | null, et: number, at = et, extra: Partial<Rec> = {}): Rec {
  return { ...base, tileStart, value, eventTime: et, availableTime: at, ...extra }
}

function join(
  recs: Rec[],
  times: number[],
  req: Partial<FeatureRequest> = {},
  opts: { by?: 'available' | 'event'; inclusive?: boolean } = {},
) {
  const out = asOfJoinTable({ entity: times.map(() => 'a'), time: times }, logTable(recs, { c: 'double' }), {
    features: [{ name: 'c', window: W, ...req }],
    includeEventTime: true,
    ...opts,
  })
  return {
    value: [...(out.getChild('c') ?? [])],
    eventTime: [...(out.getChild('c__event_time') ?? [])],
  }
}

describe('tile features', () => {
  it('sum the tiles of the window at t; a tile leaving the window decays the value to 0', () => {
    const recs = [tile(0, 2, 5), tile(10, 3, 12), tile(20, 4, 25)]
    // window at 25: [0, 30); at 35: [10, 40); at 45: [20, 50); at 55: [30, 60) holds no tile.
    const r = join(recs, [4, 5, 12, 25, 35, 45, 55, 75])
    expect(r.value).toEqual([null, 2, 5, 9, 7, 4, 0, 0])
    // eventTime: the newest tile record in the window; once decayed, when the last tile (20) left it.
    expect(r.eventTime).toEqual([null, 5, 12, 25, 25, 25, 50, 50])
  })

  it('sums in ascending tileStart order, like the reader (floating point is not associative)', () => {
    const recs = [tile(20, 0.3, 25), tile(10, 0.2, 26), tile(0, 0.1, 27)]
    expect(join(recs, [28]).value).toEqual([0.1 + 0.2 + 0.3])
    expect(0.1 + 0.2 + 0.3).not.toBe(0.3 + 0.2 + 0.1)
  })

  it('out-of-order updates: per tile the greatest (eventTime, version) wins, not the last written', () => {
    const recs = [
      tile(10, 1, 11),
      tile(0, 4, 14, 14, { version: 2 }), // a late event updates the older tile
      tile(10, 2, 15, 15, { version: 3 }),
      tile(10, 7, 13, 16, { version: 1 }), // written last, but older than tile 10's version 3
      tile(0, 5, 14, 17, { version: 5 }), // same eventTime, higher version: wins from 17 on
    ]
    expect(join(recs, [12, 14, 16, 17]).value).toEqual([1, 5, 6, 7])
  })

  it('stale records never count, whatever their times', () => {
    const recs = [tile(0, 1, 3), tile(0, 100, 9, 9, { outcome: 'stale', version: 9 })]
    expect(join(recs, [10]).value).toEqual([1])
    // A stale record alone leaves the entity without tiles: null, not 0.
    expect(join([recs[1] as Rec], [10]).value).toEqual([null])
  })

  it('availability later than the event: counted from availableTime in the available mode only', () => {
    const recs = [tile(0, 1, 2), tile(0, 3, 6, 20, { version: 1 })]
    expect(join(recs, [10, 20]).value).toEqual([1, 3])
    expect(join(recs, [10, 20], {}, { by: 'event' }).value).toEqual([3, 3])
    expect(join(recs, [20], {}, { inclusive: false }).value).toEqual([1])
    // Only available after its tile left the window: the entity first shows the decayed 0.
    const late = [tile(0, 5, 2, 40)]
    const r = join(late, [35, 40])
    expect(r.value).toEqual([null, 0])
    expect(r.eventTime).toEqual([null, 30])
  })

  it('maxAge plays the reader TTL, on the window eventTime or the decay instant', () => {
    const recs = [tile(0, 2, 5), tile(10, 3, 12)]
    // ages: t=20 → 8 (eventTime 12); t=39 → 27; t=45 (decayed at 40) → 5; t=60 → 20.
    expect(join(recs, [20, 39, 45, 60], { maxAge: 10 }).value).toEqual([5, null, 0, null])
    expect(join(recs, [22, 23], { maxAge: 10 }).value).toEqual([5, null])
  })

  it('null tile values add nothing but keep the tile (and its eventTime) in the window', () => {
    const r = join([tile(0, 2, 5), tile(10, null, 12)], [15])
    expect(r.value).toEqual([2])
    expect(r.eventTime).toEqual([12])
  })

  it('int64 tiles, tumbling windows, whole-value features beside, partitions and an OfflineLog', async () => {
    const log = memoryLog({ features: { n: 'int64', last: 'string' } })
    const w = { version: 0, outcome: 'applied' as const }
    await log.append([
      { ...w, entity: 'a', feature: 'n', value: 3, eventTime: 1, availableTime: 1, tileStart: 0 },
      { ...w, entity: 'b', feature: 'n', value: 4, eventTime: 12, availableTime: 13, tileStart: 10 },
      { ...w, entity: 'a', feature: 'last', value: 'x', eventTime: 2, availableTime: 2 },
      { ...w, entity: 'a', feature: 'n', value: 6, eventTime: 11, availableTime: 11, tileStart: 10 },
    ])
    const labels = { entity: ['a', 'b', 'a', 'b', 'c'], time: [5, 12, 15, 25, 25] }
    for (const partitions of [1, 3]) {
      const out = await asOfJoin(labels, log, {
        features: [{ name: 'n', window: tumbling(10) }, 'last'],
        partitions,
        includeAge: true,
      })
      expect([...(out.getChild('n') ?? [])]).toEqual([3n, null, 6n, 0n, null])
      expect([...(out.getChild('n__age_ms') ?? [])]).toEqual([4n, null, 4n, 5n, null])
      expect([...(out.getChild('last') ?? [])]).toEqual(['x', null, 'x', null, null])
    }
  })

  it('a request that does not describe the log throws a typed error', () => {
    const labels = { entity: ['a'], time: [5] }
    const tiles = logTable([tile(0, 1, 1)], { c: 'double' })
    expect(() => asOfJoinTable(labels, tiles, { features: ['c'] })).toThrow(UnsupportedRecordError)
    const values = logTable([{ ...base, value: 1, eventTime: 1, availableTime: 1 }], { c: 'double' })
    expect(() => asOfJoinTable(labels, values, { features: [{ name: 'c', window: W }] })).toThrow(
      /has no tile_start/,
    )
    const strings = logTable([{ ...tile(0, null, 1), value: 'x' }], { c: 'string' })
    expect(() =>
      asOfJoinTable(labels, strings, { features: [{ name: 'c', window: W, type: 'string' }] }),
    ).toThrow(InvalidArgumentError)
    for (const window of [
      { kind: 'session', gapMs: 5 },
      { kind: 'hopping', sizeMs: 10, hopMs: 3 },
    ]) {
      expect(() =>
        asOfJoinTable(labels, tiles, { features: [{ name: 'c', window: window as never }] }),
      ).toThrow(InvalidArgumentError)
    }
  })
})
