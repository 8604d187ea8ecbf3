/**
 * Additive tiles written out of order across tiles, as the sink does at replay speed (tiles are
 * separate keys, so a newer tile can overtake the last updates of an older one), with the store
 * pruning on the way: a late update of a tile below the prune horizon comes back `stale` although it
 * is newer than anything the tile held (issue 11 counted 1,172 of them).
 *
 * The property: every value served at a read time `r >= newest tile start − size` (a reader whose
 * clock is at most one window behind the newest data) equals the brute-force window value, the sum
 * over the tiles in `windowAt(r)` of the greatest update each tile *received*, applied or not. So
 * those stale writes never change what a reader can see: a pruned tile lies more than two windows
 * behind the newest one, before every such window.
 *
 * Not checked, and not equal: the event time of a decayed 0 when no tile is in the window and every
 * tile before it was pruned (a reader behind the newest tile, after a gap of over two windows). The
 * reader then takes the read time ("nothing yet"), where the pruned tiles would have given the
 * instant they left the window, so with a TTL it serves 0 where they would have made it null.
 */
import assert from 'node:assert/strict'
import { manualClock, windowAt } from '@skewless/core'
import { type OnlineStore, onlineReader } from '@skewless/online-sink'
import type { StoredEntry } from '@skewless/online-sink/adapter'
import fc from 'fast-check'
import type { TestFn } from '../types.js'
import {
  SUITE_FEATURES as F,
  featureMap,
  type OnlineStoreFactory,
  type OnlineStoreSuiteOptions,
  randomEntities,
  registered,
  storeTest,
  upd,
} from './suite-shared.js'

const HOP = F.clicks.window.hopMs
const SIZE = F.clicks.window.sizeMs
const T = 28_333_333 * 60_000

/** Tiles (by index) with their number of updates, and an arrival priority per update. */
const planArb = fc
  .uniqueArray(
    fc.record({ tile: fc.integer({ min: 0, max: 24 }), updates: fc.integer({ min: 1, max: 3 }) }),
    {
      minLength: 1,
      maxLength: 25,
      selector: (x) => x.tile,
    },
  )
  .chain((tiles) =>
    fc.record({
      tiles: fc.constant(tiles),
      priorities: fc.array(fc.integer({ min: 0, max: 1000 }), {
        minLength: tiles.reduce((n, t) => n + t.updates, 0),
        maxLength: tiles.reduce((n, t) => n + t.updates, 0),
      }),
    }),
  )

interface PlannedWrite {
  tile: number
  count: number
  eventTime: number
  priority: number
}

/** The arrival order: per tile in update order (the sink never reorders one key), across tiles at random. */
function arrivalOrder(plan: {
  tiles: { tile: number; updates: number }[]
  priorities: number[]
}): PlannedWrite[] {
  const out: PlannedWrite[] = []
  let p = 0
  for (const { tile, updates } of plan.tiles) {
    const prios = plan.priorities.slice(p, p + updates).sort((a, b) => a - b)
    p += updates
    for (let u = 0; u < updates; u++) {
      // A tile's update carries its full partial aggregate: counts grow with its event time.
      out.push({ tile, count: u + 1, eventTime: T + tile * HOP + u, priority: prios[u] as number })
    }
  }
  return out.sort((a, b) => a.priority - b.priority)
}

export function registerTilePruneProperty(
  it: TestFn,
  factory: OnlineStoreFactory,
  options: OnlineStoreSuiteOptions,
): void {
  if (!registered(options, 'additive')) return
  const t = storeTest(it, factory, options)
  t(
    'additive: property: tiles overtaking each other and pruned on the way never change a value served at or after the newest tile minus one window',
    async (store) => {
      if (!store.capabilities.additive) return
      const fm = featureMap([F.clicks])
      await fc.assert(
        fc.asyncProperty(planArb, async (plan) => {
          const [e] = randomEntities(1) as [string]
          const received = new Map<number, PlannedWrite>()
          let newest = Number.NEGATIVE_INFINITY
          let stale = 0
          for (const w of arrivalOrder(plan)) {
            const ts = T + w.tile * HOP
            const r = await store.apply([upd(e, F.clicks.name, w.count, w.eventTime, 0, ts)], fm)
            if (r.outcomes[0] === 'stale') stale++
            else assert.equal(r.outcomes[0], 'applied')
            received.set(w.tile, w)
            newest = Math.max(newest, ts)
            await checkServed(store, e, received, newest)
          }
          // Stale outcomes happen only to tiles the store pruned (every update here is newer).
          if (stale > 0) assert.ok(received.size > (2 * SIZE) / HOP + 1, 'stale without pruning')
        }),
        { numRuns: options.tilePruneRuns ?? 40 },
      )
    },
  )
}

/** Serve at read times from one window before the newest tile to past its decay; compare with brute force. */
async function checkServed(
  store: OnlineStore,
  entity: string,
  received: ReadonlyMap<number, PlannedWrite>,
  newest: number,
): Promise<void> {
  const rows = await store.read([entity], [F.clicks])
  // One raw read, served at many times: a store that answers with the rows just read.
  const frozen: OnlineStore = { ...store, read: async () => rows as StoredEntry[][] }
  const clock = manualClock(0)
  const reader = onlineReader({ store: frozen, features: [F.clicks], clock })
  for (let r = newest - SIZE; r <= newest + SIZE + HOP; r += HOP / 2) {
    clock.set(r)
    const [v] = await reader.get([entity], [F.clicks.name])
    const w = windowAt(r, F.clicks.window)
    let sum = 0
    let eventTime = Number.NEGATIVE_INFINITY
    for (const [tile, u] of received) {
      const ts = T + tile * HOP
      if (ts >= w.start && ts < w.end) {
        sum += u.count
        eventTime = Math.max(eventTime, u.eventTime)
      }
    }
    const served = v?.values[F.clicks.name]
    assert.equal(served?.value, sum, `value served at newest ${r - newest >= 0 ? '+' : ''}${r - newest} ms`)
    if (eventTime !== Number.NEGATIVE_INFINITY) assert.equal(served?.eventTime, eventTime)
  }
}
