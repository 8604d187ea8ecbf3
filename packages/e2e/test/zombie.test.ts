/**
 * Two writers of one key: a "zombie" pipeline that still runs after its replacement started, both
 * writing the same store. Through the store's changelog each applied write is logged once, by the
 * one committer that holds the log, with the instant it became readable; a served value is never
 * logged `stale` and the skew audit finds no mismatch.
 */
import { skewAudit } from '@skewless/asof-join'
import {
  collectingSink,
  count,
  createPipeline,
  defineFeatures,
  type FeatureWrite,
  hopping,
  last,
  offsetSource,
} from '@skewless/core'
import { memoryLog } from '@skewless/offline-log'
import {
  changelogCommitter,
  memoryStore,
  onlineFeatures,
  onlineReader,
  onlineSink,
  type ServedRecord,
} from '@skewless/online-sink'
import { describe, expect, it } from 'vitest'

interface Ev {
  user: string
  ts: number
  page: string
}
const features = defineFeatures<Ev>({
  entity: (e) => e.user,
  eventTime: (e) => e.ts,
  features: {
    clicks: { window: hopping(60_000, 10_000), aggregate: count(), emit: 'tiles' },
    page: { window: hopping(60_000, 10_000), aggregate: last('string'), value: (e) => e.page },
  },
})
const online = onlineFeatures(features.describe())
const users = ['a', 'b', 'c']

describe('a zombie and its replacement writing the same keys', () => {
  it('logs every applied write once, whoever applied it, and the audit sees no skew', async () => {
    const store = memoryStore({ changelog: true })
    const log = memoryLog({ features: features.describe() })
    const events: Ev[] = Array.from({ length: 3000 }, (_, i) => ({
      user: users[i % 3] as string,
      ts: 1_000_000 + i * 37,
      page: `p${i % 7}`,
    }))
    // The zombie lags behind (older events arrive later); both derive the same updates.
    const slow = async function* (from: number) {
      for (let i = from; i < events.length; i += 50) {
        yield events.slice(i, i + 50)
        await new Promise((r) => setTimeout(r, 1))
      }
    }
    const committer = changelogCommitter({ store, log, intervalMs: 2 })
    const served = collectingSink<ServedRecord>()
    const reader = onlineReader({ store, features: online, servedLog: served })
    const run = (name: string, sinkBatch: number) =>
      createPipeline({
        source: offsetSource(name, slow, { batchSize: 50 }),
        features,
        sink: onlineSink({ store, features: online, maxBatchSize: sinkBatch }),
      }).run()
    let reading = true
    const reads = (async () => {
      while (reading) {
        await reader.get(users, ['clicks', 'page'])
        await new Promise((r) => setTimeout(r, 1))
      }
    })()
    await Promise.all([run('zombie', 7), run('replacement', 64)])
    reading = false
    await reads
    await committer.close()

    const rows: FeatureWrite[] = []
    for await (const b of log.scanRows({ features: ['clicks', 'page'], includeStale: true })) rows.push(...b)
    const ids = rows.map((w) => `${w.entity}/${w.feature}/${w.tileStart ?? ''}/${w.eventTime}/${w.version}`)
    expect(new Set(ids).size).toBe(ids.length)
    expect(rows.every((w) => w.outcome === 'applied')).toBe(true)
    // The store's final values are all logged.
    const final = await store.read(users, online)
    const logged = new Set(
      rows.map(
        (w) =>
          `${w.entity}/${w.feature}/${w.tileStart ?? ''}=${JSON.stringify(w.value)}@${w.eventTime}#${w.version}`,
      ),
    )
    final.forEach((row, i) => {
      row.forEach((e, j) => {
        const k = `${users[i]}/${online[j]?.name}`
        if (e.kind === 'value')
          expect(logged).toContain(
            `${k}/=${JSON.stringify(e.stored.value)}@${e.stored.eventTime}#${e.stored.version}`,
          )
        if (e.kind === 'tiles')
          for (const t of e.tiles)
            expect(logged).toContain(
              `${k}/${t.tileStart}=${JSON.stringify(t.value)}@${t.eventTime}#${t.version}`,
            )
      })
    })
    expect(served.items.length).toBeGreaterThan(100)
    const report = await skewAudit(served.items, log, { features: online })
    if (report.mismatches.length > 0 && process.env.ZDEBUG) {
      const m = report.mismatches[0] as (typeof report.mismatches)[number]
      console.log(
        m,
        served.items.find(
          (s) => s.entity === m.entity && s.feature === m.feature && s.readTime === m.readTime,
        ),
      )
      console.log(
        rows.filter(
          (w) =>
            w.entity === m.entity && w.feature === m.feature && Math.abs(w.availableTime - m.readTime) < 5,
        ),
      )
    }
    expect(report.mismatches.slice(0, 3)).toEqual([])
  })
})
