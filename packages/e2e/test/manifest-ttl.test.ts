/**
 * The Parquet log's manifest records each feature's TTL (and description, owner, tags), so an as-of
 * join over a reopened log, with no maxAge and no definitions in the request, hides what serving hid.
 * On the old code the manifest kept only type, window, aggregate and emit: the join served 42 at +2h.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { asOfJoin } from '@skewless/asof-join'
import { defineFeatures, type FeatureWrite, last, unbounded } from '@skewless/core'
import { parquetLog } from '@skewless/offline-parquet'
import { afterAll, describe, expect, it } from 'vitest'

const HOUR = 3_600_000
const T0 = Date.UTC(2026, 0, 1)
const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

const features = defineFeatures({
  entity: (e: { account: string; ts: number; amount: number }) => e.account,
  eventTime: (e) => e.ts,
  features: {
    last_amount: {
      window: unbounded(),
      aggregate: last('double'),
      value: (e) => e.amount,
      ttl: '1h',
      description: 'amount of the last transaction',
      owner: 'fraud-team',
      tags: ['fraud', 'pii'],
    },
  },
})

const write: FeatureWrite = {
  entity: 'a',
  feature: 'last_amount',
  value: 42,
  eventTime: T0,
  version: 0,
  availableTime: T0 + 1,
  outcome: 'applied',
}

describe('a Parquet log records the TTL it was written with', () => {
  it('asOfJoin over the reopened log (opened with a type map, no maxAge) honours the TTL', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skewless-manifest-ttl-'))
    dirs.push(dir)
    const writer = await parquetLog({ dir, features: features.describe() })
    await writer.append([write])
    await writer.close()
    // A reader that knows only the types: everything else comes from the manifest.
    const log = await parquetLog({ dir, features: { last_amount: 'double' }, readOnly: true })
    const recorded = (await log.describe()).features.find((f) => f.name === 'last_amount')
    expect(recorded).toMatchObject({
      ttlMs: HOUR,
      description: 'amount of the last transaction',
      owner: 'fraud-team',
      tags: ['fraud', 'pii'],
    })
    const joined = await asOfJoin({ entity: ['a', 'a'], time: [T0 + 30 * 60_000, T0 + 2 * HOUR] }, log, {
      features: ['last_amount'],
    })
    const column = joined.getChild('last_amount')
    expect([column?.get(0), column?.get(1)]).toEqual([42, null])
    await log.close()
  })
})
