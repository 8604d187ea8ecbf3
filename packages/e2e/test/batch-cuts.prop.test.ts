/**
 * Crash recovery when the replay cuts the micro-batches differently (issue 13: the NATS source
 * cuts a batch at whatever one fetch returns, so a replay from a checkpoint seldom repeats the
 * first run's cuts). Each life of the pipeline reads the same events cut by its own random batch
 * sizes and may die at any step boundary (store apply, changelog read or trim, log commit); the
 * next life resumes from the log's checkpoint. The store and the log then hold writes of the dead
 * lives (processed after the checkpoint) and of the replay: they must end with the same values as
 * an uninterrupted run cut yet another way.
 *
 * Regime: every event is at most `outOfOrderness` behind the greatest earlier event, so no event
 * is behind the watermark in any cutting (none is late, none lands in a window whose decay timer
 * already fired). Outside it the batching decides which events are late
 * (docs/decisions/version.md); `late events depend on the cutting` below shows that.
 *
 * Covers every emission path: numeric fast path (count, sum, min, max; values and tiles), object
 * states (mean, last, distinct count, a user-defined additive aggregator in tiles, sessions,
 * unbounded windows), decay timers (values return to 0 when events stop), and idle-key eviction
 * (events span several minutes of event time). Features with `suppressUnchanged` run along but are
 * not compared: a replay that skips an update because its value equals the previous one may leave
 * a dead life's later write above it (docs/decisions/version.md).
 */

import { skewAudit } from '@skewless/asof-join'
import {
  aggregator,
  type Clock,
  count,
  createPipeline,
  defineFeatures,
  distinctCount,
  type FeatureWrite,
  hopping,
  last,
  max,
  mean,
  min,
  type PositionedBatch,
  type ResumableSource,
  session,
  sum,
  tumbling,
  unbounded,
} from '@skewless/core'
import { memoryLog, type OfflineLog } from '@skewless/offline-log'
import {
  changelogCommitter,
  memoryStore,
  type OnlineStore,
  onlineFeatures,
  onlineReader,
  onlineSink,
  type ServedRecord,
} from '@skewless/online-sink'
import type { StoredEntry } from '@skewless/online-sink/adapter'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

interface Ev {
  user: string
  ts: number
  page: string
  amount: number
}

const OOO = 2000

/** Sum of squares, user-defined and additive: object-state tiles. */
const sumSq = aggregator<number, number, number>({
  kind: 'sum_sq',
  valueType: 'double',
  additive: true,
  init: () => 0,
  add: (a, v) => a + v * v,
  merge: (a, b) => a + b,
  result: (a) => a,
})

const windowed = defineFeatures<Ev>({
  entity: (e) => e.user,
  eventTime: (e) => e.ts,
  features: {
    clicks: { window: tumbling(4000), aggregate: count() },
    clicksHop: { window: hopping(4000, 1000), aggregate: count(), suppressUnchanged: true },
    clickTiles: { window: hopping(4000, 1000), aggregate: count(), emit: 'tiles' },
    amount: { window: hopping(3000, 1000), aggregate: sum(), value: (e) => e.amount },
    amountTiles: { window: tumbling(2000), aggregate: sum(), value: (e) => e.amount, emit: 'tiles' },
    lo: { window: tumbling(3000), aggregate: min(), value: (e) => e.amount },
    hi: { window: hopping(4000, 2000), aggregate: max(), value: (e) => e.amount },
    avg: { window: hopping(3000, 1000), aggregate: mean(), value: (e) => e.amount },
    page: { window: tumbling(2000), aggregate: last('string'), value: (e) => e.page },
    pages: { window: hopping(4000, 2000), aggregate: distinctCount(), value: (e) => e.page },
    sq: { window: hopping(2000, 1000), aggregate: sumSq, value: (e) => e.amount, emit: 'tiles' },
    visits: { window: session(1500), aggregate: count() },
    visitPage: { window: session(1000), aggregate: last('string'), value: (e) => e.page },
  },
})
const forever = defineFeatures<Ev>({
  entity: (e) => e.user,
  eventTime: (e) => e.ts,
  features: {
    total: { window: unbounded(), aggregate: count() },
    spent: { window: unbounded(), aggregate: sum(), value: (e) => e.amount, suppressUnchanged: true },
    lastPage: { window: unbounded(), aggregate: last('string'), value: (e) => e.page },
  },
})
const groups = [windowed, forever]
const described = groups.flatMap((g) => g.describe())
const names = described.map((f) => f.name)
const online = onlineFeatures(described)
const USERS = ['a', 'b', 'c']
/** Features with `suppressUnchanged`: not compared (see the module comment). */
const SUPPRESSED = new Set(['clicksHop', 'spent'])

/** A clock that moves 1 ms per reading, so every availableTime differs. */
function tickClock(): Clock {
  let t = 1_000_000
  return { now: () => ++t }
}

/** Reads in flight: the one being sent waits for `until`; `reads` are those not answered yet. */
interface Gate {
  until: Promise<void> | undefined
  reads: Set<{ at: number; done: Promise<unknown> }>
}

/** Most the clock moves during a read in flight (the smallest window: the store prunes 2 behind). */
const MAX_IN_FLIGHT_MS = 2000

/** A clock moving 1 ms per reading that `follow` moves up to an event time (never back). */
function followingClock(): Clock & { follow(t: number): void; peek(): number } {
  let t = 1_000_000
  return {
    now: () => ++t,
    peek: () => t,
    follow: (x: number) => {
      if (x > t) t = x
    },
  }
}

/**
 * The store as a life sees it, with an inference service reading every user's features around
 * each apply: one read sent before the apply and answered after it (in flight across the write and
 * the clock's move), one after it. The clock follows the newest event time written, as a live
 * system's wall clock would, so a read in flight can cross a window boundary. Only a move of at
 * most `MAX_IN_FLIGHT_MS` is read across: a reader whose window lies further behind the newest tile
 * than the store's pruning margin (two windows) may miss tiles the log keeps.
 */
function readingStore(
  store: OnlineStore,
  clock: { follow(t: number): void; peek(): number },
  reader: { get(e: string[], f: string[]): Promise<unknown> },
  gate: Gate,
): OnlineStore {
  return {
    ...store,
    name: store.name,
    capabilities: store.capabilities,
    apply: async (w, f, o) => {
      let newest = Number.NEGATIVE_INFINITY
      for (const u of w) newest = Math.max(newest, u.eventTime)
      // The sink's calls overlap: a call moving the clock far past a read still in flight waits for it
      // (checked again after each wait: other calls may have sent reads meanwhile).
      for (;;) {
        const behind = [...gate.reads].find((r) => newest - r.at > MAX_IN_FLIGHT_MS)
        if (behind === undefined) break
        await behind.done
      }
      let open: () => void = () => undefined
      const until = new Promise<void>((resolve) => {
        open = resolve
      })
      let inFlight: { at: number; done: Promise<unknown> } | undefined
      if (newest - clock.peek() <= MAX_IN_FLIGHT_MS) {
        gate.until = until // the read sent now is answered once this apply is done
        inFlight = { at: clock.peek(), done: reader.get(USERS, names) }
        gate.until = undefined
        gate.reads.add(inFlight)
      }
      clock.follow(newest)
      try {
        return await store.apply(w, f, o)
      } finally {
        open()
        if (inFlight !== undefined) {
          await inFlight.done
          gate.reads.delete(inFlight)
        }
        await reader.get(USERS, names)
      }
    },
    read: (e, f) => store.read(e, f),
    readChangelog: (a, o) => (store.readChangelog as NonNullable<OnlineStore['readChangelog']>)(a, o),
    trimChangelog: (p) => (store.trimChangelog as NonNullable<OnlineStore['trimChangelog']>)(p),
    close: async () => undefined,
  }
}

/** A replayable source that cuts its batches by `sizes` (cycled), counted from where it opens. */
function cutSource(events: readonly Ev[], sizes: readonly number[]): ResumableSource<Ev> {
  return {
    name: 'events',
    async *open(from): AsyncGenerator<PositionedBatch<Ev>> {
      let at = typeof from === 'number' ? from : 0
      for (let c = 0; at < events.length; c++) {
        const b = events.slice(at, at + (sizes[c % sizes.length] as number))
        at += b.length
        yield { events: b, position: at }
      }
    },
  }
}

/** Counts step boundaries; at the chosen one the life dies (after the step's effect). */
class Reaper {
  step = 0
  dead = false
  readonly died: Promise<'died'>
  private kill: () => void = () => undefined
  constructor(readonly at: number) {
    this.died = new Promise((resolve) => {
      this.kill = () => resolve('died')
    })
  }
  async around<T>(effect: () => Promise<T>): Promise<T> {
    if (this.dead) return new Promise<T>(() => undefined)
    const r = await effect()
    if (this.dead) return new Promise<T>(() => undefined)
    if (++this.step === this.at) {
      this.dead = true
      this.kill()
      return new Promise<T>(() => undefined)
    }
    return r
  }
}

function wrapStore(store: OnlineStore, r: Reaper): OnlineStore {
  return {
    name: store.name,
    capabilities: store.capabilities,
    apply: (w, f, o) => r.around(() => store.apply(w, f, o)),
    read: (e, f) => r.around(() => store.read(e, f)),
    readChangelog: (a, o) =>
      r.around(() => (store.readChangelog as NonNullable<OnlineStore['readChangelog']>)(a, o)),
    trimChangelog: (p) =>
      r.around(() => (store.trimChangelog as NonNullable<OnlineStore['trimChangelog']>)(p)),
    close: async () => undefined,
  }
}

function wrapLog(log: OfflineLog, r: Reaper) {
  return {
    appendMarked: (b: readonly FeatureWrite[], o: Parameters<OfflineLog['appendMarked']>[1]) =>
      r.around(() => log.appendMarked(b, o)),
    readMarks: () => r.around(() => log.readMarks()),
  }
}

/**
 * Tiles a reader can still sum: within one window of the pair's newest tile. An older tile is
 * written or not depending on the cutting (a tile pushed out of the operator's ring within one
 * batch is never emitted), and the store keeps such tiles until it prunes; no window reads them.
 */
function current(tiles: { key: string; tileStart: number; value: unknown }[]): string[] {
  const newest = new Map<string, number>()
  for (const t of tiles) newest.set(t.key, Math.max(newest.get(t.key) ?? -Infinity, t.tileStart))
  return tiles
    .filter((t) => {
      const w = described.find((f) => t.key.endsWith(`/${f.name}`))?.window as { sizeMs: number }
      return t.tileStart > (newest.get(t.key) as number) - w.sizeMs
    })
    .map((t) => `${t.key}/${t.tileStart}=${JSON.stringify(t.value)}`)
}

/** The store's values (not their eventTime/version, which depend on the cutting). */
async function dump(store: OnlineStore): Promise<string[]> {
  const rows = await store.read(USERS, online)
  const out: string[] = []
  const tiles: { key: string; tileStart: number; value: unknown }[] = []
  rows.forEach((row, i) => {
    row.forEach((e: StoredEntry, j) => {
      if (SUPPRESSED.has(online[j]?.name as string)) return
      const key = `${USERS[i]}/${online[j]?.name}`
      if (e.kind === 'value') out.push(`${key}=${JSON.stringify(e.stored.value)}`)
      if (e.kind === 'tiles')
        for (const t of e.tiles) tiles.push({ key, tileStart: t.tileStart, value: t.value })
    })
  })
  return [...out, ...current(tiles)].sort()
}

async function logEnd(log: OfflineLog): Promise<string[]> {
  const rows = await log.stateAt(Number.MAX_SAFE_INTEGER, {
    features: names.filter((n) => !SUPPRESSED.has(n)),
  })
  const values = rows.filter((w) => w.tileStart === undefined)
  const tiles = rows
    .filter((w) => w.tileStart !== undefined)
    .map((w) => ({ key: `${w.entity}/${w.feature}`, tileStart: w.tileStart as number, value: w.value }))
  return [
    ...values.map((w) => `${w.entity}/${w.feature}=${JSON.stringify(w.value)}`),
    ...current(tiles),
  ].sort()
}

/** One life: resumes from the log, reads `events` cut by `sizes`, runs to the end or its death. */
async function live(
  events: readonly Ev[],
  sizes: readonly number[],
  store: OnlineStore,
  log: OfflineLog,
  reaper: Reaper | undefined,
  allowedLateness = 0,
) {
  const r = reaper ?? new Reaper(0)
  const s = wrapStore(store, r)
  const committer = changelogCommitter({ store: s, log: wrapLog(log, r), intervalMs: 0 })
  const sink = onlineSink({ store: s, features: online, maxBatchSize: 4, lingerMs: 0 })
  const pipeline = createPipeline({
    source: cutSource(events, sizes),
    features: groups,
    sink,
    watermark: { outOfOrderness: OOO, allowedLateness },
    checkpoints: committer,
    checkpointInterval: 4,
    clock: tickClock(),
  })
  return Promise.race([
    (async () => {
      await pipeline.run()
      await committer.close()
      await sink.close()
      return 'done' as const
    })(),
    r.died,
  ])
}

/** Events whose disorder is at most `maxBehind` behind the greatest earlier event. */
const eventsArb = (maxBehind: number) =>
  fc
    .array(
      fc.record({
        user: fc.constantFrom(...USERS),
        dt: fc.integer({ min: -maxBehind, max: 9000 }),
        page: fc.constantFrom('x', 'y', 'z'),
        amount: fc.integer({ min: -3, max: 5 }),
      }),
      { minLength: 1, maxLength: 45 },
    )
    .map((raw) => {
      let top = 1_000_000
      return raw.map((e) => {
        // Mostly small steps (several events per window), sometimes a long pause (decay, eviction).
        const step = e.dt > 6000 ? e.dt * 20 : Math.max(e.dt, 0) % 1500
        top += step
        return { user: e.user, ts: top + Math.min(e.dt, 0), page: e.page, amount: e.amount }
      })
    })

const sizesArb = fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 6 })

describe('crash recovery with other batch cuts on replay', () => {
  it('ends with the values of an uninterrupted run, in the store and the log', async () => {
    await fc.assert(
      fc.asyncProperty(
        eventsArb(OOO),
        fc.array(fc.record({ at: fc.integer({ min: 1, max: 60 }), sizes: sizesArb }), {
          minLength: 1,
          maxLength: 4,
        }),
        sizesArb,
        sizesArb,
        async (events, lives, lastSizes, refSizes) => {
          const refStore = memoryStore({ changelog: true, clock: tickClock() })
          const refLog = memoryLog({ features: described })
          expect(await live(events, refSizes, refStore, refLog, undefined)).toBe('done')

          const store = memoryStore({ changelog: true, clock: tickClock() })
          const log = memoryLog({ features: described })
          for (const l of lives) await live(events, l.sizes, store, log, new Reaper(l.at))
          expect(await live(events, lastSizes, store, log, undefined)).toBe('done')

          expect(await dump(store)).toEqual(await dump(refStore))
          expect(await logEnd(log)).toEqual(await logEnd(refLog))
        },
      ),
      { numRuns: Number(process.env.PROP_RUNS ?? 100), endOnFailure: process.env.PROP_DEBUG !== undefined },
    )
  }, 300_000)

  it('every value read during and between the lives is explained by the log (skew audit)', async () => {
    await fc.assert(
      fc.asyncProperty(
        eventsArb(OOO),
        fc.array(fc.record({ at: fc.integer({ min: 1, max: 60 }), sizes: sizesArb }), {
          minLength: 1,
          maxLength: 4,
        }),
        sizesArb,
        async (events, lives, lastSizes) => {
          // One clock for the store (availableTime) and the reader (readTime), following the event
          // times as a live system's wall clock does, so the windows read hold the tiles written.
          const clock = followingClock()
          const store = memoryStore({ changelog: true, clock })
          const log = memoryLog({ features: described })
          const served: ServedRecord[] = []
          // The reader's store answers a read sent during an apply once the apply is done.
          const gate: Gate = { until: undefined, reads: new Set() }
          const reader = onlineReader({
            store: {
              ...store,
              read: async (e, f) => {
                const until = gate.until
                if (until !== undefined) await until
                return store.read(e, f)
              },
            },
            features: online,
            clock,
            servedLog: {
              write: (b) => {
                served.push(...b)
              },
              flush: async () => undefined,
              close: async () => undefined,
            },
          })
          const reading = () => readingStore(store, clock, reader, gate)
          for (const l of lives) {
            await live(events, l.sizes, reading(), log, new Reaper(l.at))
            await reader.get(USERS, names)
          }
          expect(await live(events, lastSizes, reading(), log, undefined)).toBe('done')
          await reader.get(USERS, names)
          const report = await skewAudit(served, log, { features: online })
          expect(report.checked).toBe(served.length)
          // One known divergence, not in the sink or the log: a store prunes tiles more than two windows
          // behind an entity's newest tile, so a read whose clock lags a write of a later tile by less
          // than a window, of an entity idle for more than two windows, finds no tile at or before its
          // window and serves the decayed 0 at its read time, where the log still has the decay
          // instant of the pruned tile. Same value; only that eventTime differs.
          const pruned = (m: (typeof report.mismatches)[number]) =>
            m.served === 0 && m.logged === 0 && m.servedEventTime === m.readTime
          expect(report.mismatches.filter((m) => !pruned(m))).toEqual([])
        },
      ),
      { numRuns: Number(process.env.PROP_RUNS ?? 100), endOnFailure: process.env.PROP_DEBUG !== undefined },
    )
  }, 300_000)

  it('the quoted example: an out-of-order event in the next batch, crash, replay in one batch', async () => {
    // e1 (k, τ) alone in a batch, then e2 (k, before τ) in the next; the replay reads both at once.
    const events: Ev[] = [
      { user: 'a', ts: 1_000_000, page: 'x', amount: 1 },
      { user: 'a', ts: 1_005_000, page: 'x', amount: 2 },
      { user: 'a', ts: 1_004_000, page: 'y', amount: 3 },
      { user: 'b', ts: 1_006_000, page: 'z', amount: 1 },
    ]
    const refStore = memoryStore({ changelog: true, clock: tickClock() })
    const refLog = memoryLog({ features: described })
    expect(await live(events, [4], refStore, refLog, undefined)).toBe('done')
    for (let at = 1; at <= 12; at++) {
      const store = memoryStore({ changelog: true, clock: tickClock() })
      const log = memoryLog({ features: described })
      await live(events, [1], store, log, new Reaper(at))
      expect(await live(events, [4], store, log, undefined)).toBe('done')
      expect({ at, state: await dump(store) }).toEqual({ at, state: await dump(refStore) })
      expect({ at, state: await logEnd(log) }).toEqual({ at, state: await logEnd(refLog) })
    }
  }, 60_000)

  it('late events depend on the cutting (documented: allowedLateness is judged per batch)', async () => {
    // 'a' at 10 s, then 'a' 3 s earlier: with outOfOrderness 2 s the second is late when the first
    // was in an earlier batch (the watermark had moved to 8 s), on time in the same batch.
    const events: Ev[] = [
      { user: 'a', ts: 1_010_000, page: 'x', amount: 1 },
      { user: 'a', ts: 1_007_000, page: 'y', amount: 1 },
    ]
    const one = memoryStore({ changelog: true, clock: tickClock() })
    await live(events, [2], one, memoryLog({ features: described }), undefined)
    const two = memoryStore({ changelog: true, clock: tickClock() })
    await live(events, [1], two, memoryLog({ features: described }), undefined)
    expect(await dump(one)).toContain('a/total=2')
    expect(await dump(two)).toContain('a/total=1')
  })
})
