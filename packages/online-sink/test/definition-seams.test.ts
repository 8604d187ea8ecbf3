/**
 * Seams between the feature definition and serving: the TTL comes from the definition, and a
 * numeric entity key is found by the reader the way the pipeline stored it.
 */
import {
  collectingSink,
  createPipeline,
  defineFeatures,
  InvalidArgumentError,
  last,
  manualClock,
  unbounded,
} from '@skewless/core'
import { describe, expect, it } from 'vitest'
import { memoryStore, onlineFeatures, onlineReader, onlineSink } from '../src/index.js'

const HOUR = 3_600_000
const T0 = Date.UTC(2026, 0, 1)

interface Txn {
  account: number
  ts: number
  amount: number
}

const features = defineFeatures<Txn>({
  entity: (e) => e.account, // a number: the pipeline keys it as '42'
  eventTime: (e) => e.ts,
  features: {
    last_amount: { window: unbounded(), aggregate: last('double'), value: (e) => e.amount, ttl: '1h' },
  },
})

async function served() {
  const clock = manualClock(T0)
  const store = memoryStore({ clock })
  const online = onlineFeatures(features.describe())
  const sink = onlineSink({ store, features: online, clock })
  await createPipeline({ source: [{ account: 42, ts: T0, amount: 42 }], features, sink, clock }).run()
  await sink.close()
  return { clock, reader: onlineReader({ store, features: online, clock }) }
}

describe('definition → serving', () => {
  it('onlineFeatures takes the TTL from the definition; an override still wins', () => {
    expect(onlineFeatures(features.describe())[0]?.ttlMs).toBe(HOUR)
    expect(onlineFeatures(features.describe(), { last_amount: { ttlMs: 5 } })[0]?.ttlMs).toBe(5)
  })

  it('the reader serves the value within the TTL and null at +2h, with no ttlMs repeated', async () => {
    const { clock, reader } = await served()
    clock.set(T0 + HOUR - 60_000)
    expect((await reader.get(['42'], ['last_amount']))[0]?.values.last_amount?.value).toBe(42)
    clock.set(T0 + 2 * HOUR)
    expect((await reader.get(['42'], ['last_amount']))[0]?.values.last_amount).toBeNull()
  })

  it('finds an entity written as a number when read as a number or a bigint', async () => {
    const { reader } = await served()
    const vectors = await reader.get([42, 42n, '42'], ['last_amount'])
    expect(vectors.map((v) => [v.entity, v.values.last_amount?.value])).toEqual([
      ['42', 42],
      ['42', 42],
      ['42', 42],
    ])
  })

  it('refuses a key that is not a string, number or bigint with a typed error', async () => {
    const { reader } = await served()
    const bad = [{ id: 42 }] as unknown as string[]
    await expect(reader.get(bad, ['last_amount'])).rejects.toThrow(InvalidArgumentError)
    await expect(reader.get([''], ['last_amount'])).rejects.toThrow(/entities\[0\].*non-empty string/)
  })

  it('the served log records the normalised key', async () => {
    const clock = manualClock(T0)
    const store = memoryStore({ clock })
    const online = onlineFeatures(features.describe())
    const log = collectingSink<{ entity: string }>()
    const reader = onlineReader({ store, features: online, clock, servedLog: log as never })
    await reader.get([7], ['last_amount'])
    expect(log.items.map((r) => r.entity)).toEqual(['7'])
  })
})
