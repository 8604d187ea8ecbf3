import {
  arraySource,
  ClosedError,
  count,
  defineFeatures,
  hopping,
  last,
  manualClock,
  unbounded,
} from '@skewless/core'
import { memoryLog, type OfflineLog } from '@skewless/offline-log'
import { memoryStore, type ServedRecord } from '@skewless/online-sink'
import { describe, expect, it } from 'vitest'
import { featureStore, UnsupportedOperationError } from '../src/index.js'

const MIN = 60_000
const HOUR = 60 * MIN
const T0 = Date.UTC(2026, 0, 1)

interface Txn {
  account: string | number
  ts: number
  amount: number
}

// The event type comes from the entity extractor's parameter, so the feature names are inferred too.
const features = defineFeatures({
  entity: (e: Txn) => e.account,
  eventTime: (e) => e.ts,
  features: {
    txn_10m: { window: hopping('10m', '1m'), aggregate: count(), emit: 'tiles', owner: 'risk' },
    last_amount: {
      window: unbounded(),
      aggregate: last('double'),
      value: (e) => e.amount,
      ttl: '1h',
      description: 'amount of the latest transaction',
      tags: ['fraud'],
    },
  },
})

const txns: Txn[] = [
  { account: 'a', ts: T0, amount: 10 },
  { account: 'a', ts: T0 + MIN, amount: 20 },
  { account: 42, ts: T0 + 2 * MIN, amount: 42 },
]

function served() {
  const items: ServedRecord[] = []
  return {
    items,
    write: (b: readonly ServedRecord[]) => void items.push(...b),
    flush: async () => undefined,
    close: async () => undefined,
  }
}

describe('featureStore over the memory store and the memory log', () => {
  it('ingests live, serves with the TTL from the definition, trains and audits with the same TTL', async () => {
    const clock = manualClock(T0 + 2 * MIN)
    const log = served()
    await using fs = await featureStore({
      features,
      online: memoryStore({ clock }),
      offline: memoryLog({ features: features.describe() }),
      clock,
      servedLog: log,
    })
    const r = await fs.ingest(txns)
    expect(r).toMatchObject({ ended: 'completed', logPath: 'downstream' })
    expect(r.sink.applied).toBeGreaterThan(0)

    const now = await fs.getOnlineFeatures(['a', 42])
    expect(now.map((v) => [v.entity, v.values.last_amount?.value, v.values.txn_10m?.value])).toEqual([
      ['a', 20, 2],
      ['42', 42, 1],
    ])
    clock.set(T0 + 3 * HOUR)
    const later = await fs.getOnlineFeatures([42], ['last_amount'])
    expect(later[0]?.values.last_amount).toBeNull()

    const labels = { entity: ['a', 'a', '42'], time: [T0 + 5 * MIN, T0 + 3 * HOUR, T0 + 3 * HOUR] }
    const training = await fs.getHistoricalFeatures(labels)
    const col = (n: string) => [0, 1, 2].map((i) => training.getChild(n)?.get(i))
    expect(col('last_amount')).toEqual([20, null, null]) // the TTL, as served
    expect(col('txn_10m').map(Number)).toEqual([2, 0, 0]) // the tile window, from the definition

    const report = await fs.audit(log.items)
    expect(report.checked).toBe(5)
    expect(report.mismatches).toEqual([])
  })

  it('backfills history, materializes the store from the log, continues live from the checkpoint', async () => {
    const clock = manualClock(T0 + 2 * MIN)
    await using fs = await featureStore({
      features,
      online: memoryStore({ clock }),
      offline: (defs) => memoryLog({ features: defs }),
      clock,
    })
    const history = await fs.backfill(txns.slice(0, 2))
    expect(history.records).toBeGreaterThan(0)
    expect((await fs.getOnlineFeatures(['a']))[0]?.values.last_amount).toBeNull() // not served yet
    const loaded = await fs.materialize()
    expect(loaded.records).toBeGreaterThan(0)
    expect((await fs.getOnlineFeatures(['a']))[0]?.values.last_amount?.value).toBe(20)
    clock.set(T0 + 3 * MIN)
    await fs.ingest([{ account: 'a', ts: T0 + 3 * MIN, amount: 30 }], { checkpoint: history.checkpoint })
    const v = (await fs.getOnlineFeatures(['a']))[0]?.values
    expect([v?.last_amount?.value, v?.txn_10m?.value]).toEqual([30, 3])
  })

  it('with a changelog store, the log is written from the changelog and a resumable source resumes from it', async () => {
    const clock = manualClock(T0 + 2 * MIN)
    const store = memoryStore({ clock, changelog: true })
    const log = memoryLog({ features: features.describe() })
    await using fs = await featureStore({ features, online: store, offline: log, clock })
    const first = await fs.ingest(arraySource('txns', txns.slice(0, 2)))
    expect(first.logPath).toBe('changelog')
    expect(store.changelogLength()).toBe(0) // moved into the log and trimmed
    expect((await log.readMarks()).checkpoint?.sources).toEqual({ txns: 2 })
    // The same source again: resumed after the 2 events the log's checkpoint covers.
    const second = await fs.ingest(arraySource('txns', txns))
    expect(second.metrics.eventsIn).toBe(3)
    const rows = await log.stateAt(T0 + 10 * MIN, { features: ['last_amount'] })
    expect(rows.map((w) => [w.entity, w.value])).toEqual([
      ['42', 42],
      ['a', 20],
    ])
  })

  it('ingest passes its logger to the pipeline: history on the live path is warned about, naming backfill()', async () => {
    const warnings: string[] = []
    const logger = {
      warn: (_: object, m?: string) => void warnings.push(m ?? ''),
      info: () => {},
      error: () => {},
    }
    const clock = manualClock(T0 + 30 * 24 * HOUR) // the events are a month old
    await using fs = await featureStore({
      features,
      online: memoryStore({ clock }),
      offline: memoryLog({ features: features.describe() }),
      clock,
      logger,
    })
    const r = await fs.ingest(txns)
    expect(r.metrics.eventsIn).toBe(3)
    expect(warnings.some((w) => w.includes('backfill()'))).toBe(true)
  })

  it('describe() is the registry: definitions with TTL, description, owner and tags', async () => {
    await using fs = await featureStore({
      features,
      online: memoryStore(),
      offline: memoryLog({ features: features.describe() }),
    })
    expect(fs.names).toEqual(['txn_10m', 'last_amount'])
    expect(fs.describe().map((d) => [d.name, d.ttlMs, d.owner, d.description, d.tags])).toEqual([
      ['txn_10m', undefined, 'risk', undefined, undefined],
      ['last_amount', HOUR, undefined, 'amount of the latest transaction', ['fraud']],
    ])
  })

  it('an aborted signal stops ingest; close() aborts a running ingest and closes only what it created', async () => {
    let logClosed = 0
    let storeClosed = 0
    const store = memoryStore()
    const mine = memoryStore()
    const fs = await featureStore({
      features,
      online: () => Object.assign(Object.create(store), { close: async () => void storeClosed++ }),
      offline: (defs) => {
        const log = memoryLog({ features: defs })
        return Object.assign(Object.create(log), { close: async () => void logClosed++ }) as OfflineLog
      },
    })
    const aborted = await fs.ingest(txns, { signal: AbortSignal.abort() })
    expect(aborted.ended).toBe('aborted')
    // A live source that never ends: close() must not hang on it.
    const never = (async function* () {
      yield txns[0] as Txn
      await new Promise(() => undefined)
    })()
    const running = fs.ingest(never)
    await new Promise((r) => setTimeout(r, 50))
    await fs.close()
    await expect(running).resolves.toMatchObject({ ended: 'aborted' })
    expect([storeClosed, logClosed]).toEqual([1, 1])
    await fs.close() // idempotent
    expect([storeClosed, logClosed]).toEqual([1, 1])
    await expect(fs.getOnlineFeatures(['a'])).rejects.toThrow(ClosedError)
    // An instance passed in stays open.
    const other = await featureStore({
      features,
      online: mine,
      offline: memoryLog({ features: features.describe() }),
    })
    await other.close()
    expect((await mine.read(['a'], [{ name: 'last_amount', valueType: 'double' }]))[0]).toBeDefined()
  })

  it('refuses a second writer while one runs, and compact() on a log that cannot', async () => {
    await using fs = await featureStore({
      features,
      online: memoryStore(),
      offline: memoryLog({ features: features.describe() }),
    })
    const never = (async function* () {
      await new Promise(() => undefined)
      yield txns[0] as Txn
    })()
    const ctl = new AbortController()
    const running = fs.ingest(never, { signal: ctl.signal })
    await expect(fs.backfill(txns)).rejects.toThrow(/an ingest or backfill is running/)
    ctl.abort()
    await running
    await expect(fs.compact()).rejects.toThrow(UnsupportedOperationError)
  })
})
