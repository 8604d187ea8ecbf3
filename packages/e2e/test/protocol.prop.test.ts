/**
 * The checkpoint protocol as a property, on the memory store (changelog on) and the memory log:
 * a run is crashed at a random step boundary (before or after a store apply, a changelog read or
 * trim, a log commit, a sink flush), as many times as fast-check likes, each life resuming from
 * the log alone. At the end the store and the log must equal an uninterrupted run's, no write may
 * be logged twice, and every value the store held when a life died must be logged applied.
 *
 * A "crash" freezes the dead life: every call it makes afterwards (store, log) never settles, so
 * it has no effect after its death, as a killed process.
 */
import {
  arraySource,
  type Clock,
  type CommittedCheckpoint,
  count,
  createPipeline,
  defineFeatures,
  type FeatureWrite,
  hopping,
  last,
} from '@skewless/core'
import { memoryLog, type OfflineLog } from '@skewless/offline-log'
import {
  changelogCommitter,
  memoryStore,
  type OnlineStore,
  onlineFeatures,
  onlineSink,
} from '@skewless/online-sink'
import type { StoredEntry } from '@skewless/online-sink/adapter'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { identity } from './store-state.js'

interface Ev {
  user: string
  ts: number
  page: string
}

const features = defineFeatures<Ev>({
  entity: (e) => e.user,
  eventTime: (e) => e.ts,
  features: {
    clicks: { window: hopping(4000, 1000), aggregate: count(), emit: 'tiles' },
    page: { window: hopping(3000, 1000), aggregate: last('string'), value: (e) => e.page },
  },
})
const names = features.describe().map((f) => f.name)
const online = onlineFeatures(features.describe())
const USERS = ['a', 'b', 'c', 'd']

/** A clock that moves 1 ms per reading, so every availableTime differs. */
function tickClock(): Clock {
  let t = 1_000_000
  return { now: () => ++t }
}

/** Counts step boundaries; at the chosen one the life dies (before or after the step's effect). */
class Reaper {
  step = 0
  dead = false
  readonly died: Promise<'died'>
  private kill: () => void = () => undefined
  constructor(
    readonly at: number,
    readonly after: boolean,
  ) {
    this.died = new Promise((resolve) => {
      this.kill = () => resolve('died')
    })
  }
  /** Run `effect` as one step unless the life is dead; die around it when the step is the chosen one. */
  async around<T>(effect: () => Promise<T>): Promise<T> {
    if (this.dead) return new Promise<T>(() => undefined)
    const n = ++this.step
    if (n === this.at && !this.after) return this.die<T>()
    const r = await effect()
    if (this.dead) return new Promise<T>(() => undefined)
    if (n === this.at) return this.die<T>()
    return r
  }
  private die<T>(): Promise<T> {
    this.dead = true
    this.kill()
    return new Promise<T>(() => undefined)
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

async function dump(store: OnlineStore): Promise<string[]> {
  const rows = await store.read(USERS, online)
  const out: string[] = []
  rows.forEach((row, i) => {
    row.forEach((e: StoredEntry, j) => {
      const k = `${USERS[i]}/${online[j]?.name}`
      if (e.kind === 'value')
        out.push(`${k}=${JSON.stringify(e.stored.value)}@${e.stored.eventTime}#${e.stored.version}`)
      if (e.kind === 'tiles')
        for (const t of e.tiles)
          out.push(`${k}/${t.tileStart}=${JSON.stringify(t.value)}@${t.eventTime}#${t.version}`)
    })
  })
  return out.sort()
}

const keyed = (w: FeatureWrite) =>
  `${w.entity}/${w.feature}${w.tileStart === undefined ? '' : `/${w.tileStart}`}=${JSON.stringify(w.value)}@${w.eventTime}#${w.version}`

async function allRows(log: OfflineLog): Promise<FeatureWrite[]> {
  const rows: FeatureWrite[] = []
  for await (const b of log.scanRows({ features: names, includeStale: true })) rows.push(...b)
  return rows
}

/** One life: resumes from the log, runs until the end or its death. Returns whether it finished. */
async function live(
  events: Ev[],
  store: OnlineStore,
  log: OfflineLog,
  reaper: Reaper | undefined,
  drainEvery: number,
) {
  const r = reaper ?? new Reaper(0, false)
  const s = wrapStore(store, r)
  const l = wrapLog(log, r)
  const committer = changelogCommitter({ store: s, log: l, intervalMs: 0 })
  const sink = onlineSink({ store: s, features: online, maxBatchSize: 3, lingerMs: 0 })
  let batches = 0
  const source = arraySource('events', events, { batchSize: 2 })
  const drained = {
    ...source,
    async *open(from: Parameters<typeof source.open>[0], o: Parameters<typeof source.open>[1]) {
      for await (const b of source.open(from, o)) {
        yield b
        if (++batches % drainEvery === 0) await committer.drain()
      }
    },
  }
  const pipeline = createPipeline({
    source: drained,
    features,
    sink,
    watermark: { outOfOrderness: 500 },
    checkpoints: committer,
    checkpointInterval: 3,
    clock: tickClock(),
  })
  const outcome = await Promise.race([
    (async () => {
      await pipeline.run()
      await committer.close()
      await sink.close()
      return 'done' as const
    })(),
    r.died,
  ])
  return outcome
}

const eventsArb = fc
  .array(
    fc.record({
      user: fc.constantFrom(...USERS),
      dt: fc.integer({ min: -400, max: 900 }),
      page: fc.constantFrom('x', 'y', 'z'),
    }),
    { minLength: 1, maxLength: 40 },
  )
  .map((raw) => {
    let t = 10_000
    return raw.map((e) => {
      t += Math.max(e.dt, 0)
      return { user: e.user, ts: t + Math.min(e.dt, 0), page: e.page }
    })
  })

describe('checkpoint protocol under crashes at every step boundary', () => {
  it('ends equal to an uninterrupted run, logs every held value once', async () => {
    await fc.assert(
      fc.asyncProperty(
        eventsArb,
        fc.array(fc.record({ at: fc.integer({ min: 1, max: 120 }), after: fc.boolean() }), { maxLength: 6 }),
        fc.integer({ min: 1, max: 4 }),
        async (events, crashes, drainEvery) => {
          const refStore = memoryStore({ changelog: true, clock: tickClock() })
          const refLog = memoryLog({ features: features.describe() })
          expect(await live(events, refStore, refLog, undefined, drainEvery)).toBe('done')

          const store = memoryStore({ changelog: true, clock: tickClock() })
          const log = memoryLog({ features: features.describe() })
          const heldAtDeath: string[][] = []
          for (const c of crashes) {
            const outcome = await live(events, store, log, new Reaper(c.at, c.after), drainEvery)
            if (outcome === 'died') heldAtDeath.push(await dump(store))
          }
          expect(await live(events, store, log, undefined, drainEvery)).toBe('done')

          expect(await dump(store)).toEqual(await dump(refStore))
          const rows = await allRows(log)
          const ids = rows.map(identity)
          expect(new Set(ids).size).toBe(ids.length)
          expect(new Set(ids)).toEqual(new Set((await allRows(refLog)).map(identity)))
          const logged = new Set(rows.filter((w) => w.outcome === 'applied').map(keyed))
          for (const held of heldAtDeath) for (const v of held) expect(logged).toContain(v)
          const end = async (lg: OfflineLog) =>
            (await lg.stateAt(Number.MAX_SAFE_INTEGER, { features: names })).map(keyed).sort()
          expect(await end(log)).toEqual(await end(refLog))
          const cp = (await log.readMarks()).checkpoint as CommittedCheckpoint
          expect(cp.sources.events).toBe(events.length)
        },
      ),
      { numRuns: Number(process.env.PROP_RUNS ?? 150), endOnFailure: process.env.PROP_DEBUG !== undefined },
    )
  }, 120_000)
})
