import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { asOfJoin } from '@skewless/asof-join'
import { count, defineFeatures, hopping, last, manualClock, sum, tumbling, unbounded } from '@skewless/core'
import { parquetLog } from '@skewless/offline-parquet'
import { memoryStore } from '@skewless/online-sink'
import { afterEach, describe, expect, it } from 'vitest'
import { featureStore } from '../src/index.js'

const MIN = 60_000
const T0 = Date.UTC(2026, 0, 1)

interface Click {
  user: string
  ts: number
  ms: number
}

const features = defineFeatures({
  entity: (e: Click) => e.user,
  eventTime: (e) => e.ts,
  features: {
    dwell_1h: { window: tumbling('1h'), aggregate: sum(), value: (e) => e.ms },
    last_dwell: { window: unbounded(), aggregate: last('double'), value: (e) => e.ms, ttl: '30m' },
  },
})

const dirs: string[] = []
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

describe('featureStore over a Parquet log', () => {
  it('creates the log from the definitions, ingests, trains, compacts, and closes the log it created', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skewless-fs-'))
    dirs.push(dir)
    const clock = manualClock(T0 + 10 * MIN)
    const fs = await featureStore({
      features,
      online: memoryStore({ clock }),
      offline: (defs) => parquetLog({ dir, features: defs }),
      clock,
    })
    const clicks = [0, 1, 2].map((i) => ({ user: 'ann', ts: T0 + i * MIN, ms: 100 * (i + 1) }))
    for (const c of clicks) {
      clock.set(c.ts + 1000)
      await fs.ingest([c]) // one commit each: files to compact; the state goes on across calls
    }
    const training = await fs.getHistoricalFeatures(
      { entity: ['ann', 'ann'], time: [T0 + 5 * MIN, T0 + 45 * MIN] },
      ['dwell_1h', 'last_dwell'],
    )
    expect([0, 1].map((i) => training.getChild('dwell_1h')?.get(i))).toEqual([600, 600])
    expect([0, 1].map((i) => training.getChild('last_dwell')?.get(i))).toEqual([300, null]) // ttl 30m
    const report = (await fs.compact({ minFiles: 2 })) as { filesIn: number; filesOut: number }
    expect(report.filesIn).toBeGreaterThan(report.filesOut)
    await fs.close()
    // Closed by the facade: the directory can be opened by another writer at once.
    const again = await parquetLog({ dir, features: features.describe() })
    const rows = await again.stateAt(T0 + 10 * MIN, { features: ['last_dwell'] })
    expect(rows.map((w) => w.value)).toEqual([300])
    await again.close()
  })

  it('a join over the Parquet log alone takes a tile window from the definitions its manifest records', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skewless-fs-'))
    dirs.push(dir)
    const tiles = defineFeatures({
      entity: (e: Click) => e.user,
      eventTime: (e) => e.ts,
      features: { clicks_10m: { window: hopping('10m', '1m'), aggregate: count(), emit: 'tiles' } },
    })
    const clock = manualClock(T0 + 10 * MIN)
    await using fs = await featureStore({
      features: tiles,
      online: memoryStore({ clock }),
      offline: (defs) => parquetLog({ dir, features: defs }),
      clock,
    })
    await fs.ingest([0, 1, 2].map((i) => ({ user: 'ann', ts: T0 + i * MIN, ms: 1 })))
    const reader = await parquetLog({ dir, features: { clicks_10m: 'int64' }, readOnly: true })
    // No window in the request, no definitions in the options: the log's describe() has them.
    const joined = await asOfJoin({ entity: ['ann', 'ann'], time: [T0 + 10 * MIN, T0 + 30 * MIN] }, reader, {
      features: ['clicks_10m'],
    })
    expect([0, 1].map((i) => Number(joined.getChild('clicks_10m')?.get(i)))).toEqual([2, 0]) // the window at +10m holds the tiles of minutes 1 and 2
    await reader.close()
  })

  it('types feature names from the definitions', async () => {
    const fs = await featureStore({
      features,
      online: memoryStore(),
      offline: (defs) => parquetLog({ dir: join(tmpdir(), 'unused'), features: defs, readOnly: true }),
    })
    const ok: readonly ('dwell_1h' | 'last_dwell')[] = fs.names
    expect(ok).toEqual(['dwell_1h', 'last_dwell'])
    const subset = await fs.getOnlineFeatures(['ann'], ['last_dwell'])
    // @ts-expect-error: only the requested features are in a vector's type
    expect(subset[0]?.values.dwell_1h).toBeUndefined()
    // @ts-expect-error: a misspelt feature name is a type error
    await expect(fs.getOnlineFeatures(['ann'], ['dwell_1hr'])).rejects.toThrow(/not in the reader's features/)
    await fs.close()
  })
})
