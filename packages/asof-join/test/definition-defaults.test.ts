/**
 * The join and the audit take a feature's TTL and tile window from its definition, so serving and
 * training agree without repeating them (`maxAge`, `window` stay as overrides).
 */
import {
  ClosedError,
  count,
  createPipeline,
  defineFeatures,
  type FeatureInfo,
  hopping,
  last,
  manualClock,
  unbounded,
} from '@skewless/core'
import { memoryLog, type OfflineLog } from '@skewless/offline-log'
import {
  memoryStore,
  onlineFeatures,
  onlineReader,
  onlineSink,
  type ServedRecord,
} from '@skewless/online-sink'
import { describe, expect, it } from 'vitest'
import { asOfJoin, LogClosedError, skewAudit } from '../src/index.js'

const HOUR = 3_600_000
const T0 = Date.UTC(2026, 0, 1)

interface Txn {
  account: string
  ts: number
  amount: number
}

const features = defineFeatures<Txn>({
  entity: (e) => e.account,
  eventTime: (e) => e.ts,
  features: {
    last_amount: { window: unbounded(), aggregate: last('double'), value: (e) => e.amount, ttl: '1h' },
    txn_10m: { window: hopping('10m', '1m'), aggregate: count(), emit: 'tiles' },
  },
})
const defs = features.describe()

/** A live pipeline into a memory store and log; a reader with the definition's TTL at +2h. */
async function servedAtTwoHours() {
  const clock = manualClock(T0)
  const store = memoryStore({ clock })
  const log = memoryLog({ features: defs })
  const online = onlineFeatures(defs)
  const sink = onlineSink({ store, features: online, downstream: log, clock })
  await createPipeline({ source: [{ account: 'a', ts: T0, amount: 42 }], features, sink, clock }).run()
  await sink.flush()
  const served: ServedRecord[] = []
  const servedLog = {
    write: (b: readonly ServedRecord[]) => void served.push(...b),
    flush: async () => undefined,
    close: async () => undefined,
  }
  const reader = onlineReader({ store, features: online, clock, servedLog })
  clock.set(T0 + 2 * HOUR)
  const vector = await reader.get(['a'], ['last_amount'])
  return { log, served, vector, readTime: T0 + 2 * HOUR }
}

/** `log` with a `describe()` that returns `features`, as the Parquet log's manifest does. */
function describing(log: OfflineLog, definitions: FeatureInfo[]): OfflineLog {
  return Object.assign(Object.create(log), { describe: async () => ({ features: definitions }) })
}

describe('TTL from the definition', () => {
  it('the reader serves null at +2h and the join at the same instant gives null, with no maxAge', async () => {
    const { log, vector, readTime } = await servedAtTwoHours()
    expect(vector[0]?.values.last_amount).toBeNull()
    const labels = { entity: ['a', 'a'], time: [T0 + 30 * 60_000, readTime] }
    const joined = await asOfJoin(labels, log, { features: ['last_amount'], definitions: defs })
    const column = joined.getChild('last_amount')
    expect([column?.get(0), column?.get(1)]).toEqual([42, null])
  })

  it('reads the definitions from a log that describes itself', async () => {
    const { log, readTime } = await servedAtTwoHours()
    const joined = await asOfJoin({ entity: ['a'], time: [readTime] }, describing(log, defs), {
      features: ['last_amount'],
    })
    expect(joined.getChild('last_amount')?.get(0)).toBeNull()
  })

  it('a closed log that describes itself still fails with LogClosedError', async () => {
    const log = memoryLog({ features: defs })
    await log.close()
    const closed = Object.assign(Object.create(log), {
      describe: async () => {
        throw new ClosedError('log')
      },
    })
    const err = await asOfJoin({ entity: ['a'], time: [T0] }, closed, { features: ['last_amount'] }).catch(
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(LogClosedError)
  })

  it('maxAge still overrides the definition (Infinity: no limit)', async () => {
    const { log, readTime } = await servedAtTwoHours()
    const labels = { entity: ['a'], time: [readTime] }
    const joined = await asOfJoin(labels, log, {
      features: [{ name: 'last_amount', maxAge: Number.POSITIVE_INFINITY }],
      definitions: defs,
    })
    expect(joined.getChild('last_amount')?.get(0)).toBe(42)
  })

  it('the skew audit finds no skew in a TTL-hidden value, with no maxAge and no reader configs', async () => {
    const { log, served } = await servedAtTwoHours()
    expect(served.map((s) => s.value)).toEqual([null])
    const report = await skewAudit(served, log, { definitions: defs })
    expect(report).toMatchObject({ checked: 1, matched: 1, mismatches: [] })
    const fromLog = await skewAudit(served, describing(log, defs))
    expect(fromLog.mismatches).toEqual([])
  })
})

describe('tile window from the definition', () => {
  it('joins a tile feature without repeating its window', async () => {
    const clock = manualClock(T0)
    const log = memoryLog({ features: defs })
    const store = memoryStore({ clock })
    const sink = onlineSink({ store, features: onlineFeatures(defs), downstream: log, clock })
    const events = [0, 1, 2].map((i) => ({ account: 'a', ts: T0 + i * 60_000, amount: 1 }))
    await createPipeline({ source: events, features, sink, clock }).run()
    await sink.flush()
    const labels = { entity: ['a', 'a'], time: [T0 + 5 * 60_000, T0 + 30 * 60_000] }
    const joined = await asOfJoin(labels, log, { features: ['txn_10m'], definitions: defs, by: 'event' })
    expect(joined.getChild('txn_10m')?.toArray()).toEqual(BigInt64Array.from([3n, 0n]))
  })
})
