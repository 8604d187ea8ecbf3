/**
 * End to end for tile features: a core pipeline emits additive tiles → online sink → memory store,
 * with every acknowledged write in a memory offline log. Online reads at many instants (during the
 * stream, and after it while the windows decay) must equal the as-of join of the log at those
 * instants, and the skew audit must find nothing — until a served value is tampered with.
 */
import {
  collectingSink,
  count,
  createPipeline,
  defineFeatures,
  type FeatureWrite,
  hopping,
  manualClock,
  sum,
  tumbling,
} from '@skewless/core'
import { memoryLog } from '@skewless/offline-log'
import {
  memoryStore,
  onlineFeatures,
  onlineReader,
  onlineSink,
  type ServedRecord,
} from '@skewless/online-sink'
import { expect, it } from 'vitest'
import { asOfJoin, skewAudit } from '../src/index.js'

type Buy = { user: string; ts: number; amount: number }

it('pipeline with tile features: online reads == asOfJoin at the read times == skewAudit with 0 mismatches', async () => {
  const group = defineFeatures<Buy>({
    entity: (e) => e.user,
    eventTime: (e) => e.ts,
    features: {
      buys_30s: { window: hopping('30s', '10s'), aggregate: count(), emit: 'tiles' },
      spend_30s: { window: hopping('30s', '10s'), aggregate: sum(), value: (e) => e.amount, emit: 'tiles' },
      spend_20s: { window: tumbling('20s'), aggregate: sum(), value: (e) => e.amount, emit: 'tiles' },
    },
  })
  const features = onlineFeatures(group.describe())
  const names = features.map((f) => f.name)
  const clock = manualClock(0)
  const store = memoryStore({ clock })
  const log = memoryLog({ features: group.describe() })
  const sink = onlineSink({ store, features, downstream: log, clock, forwardStale: true })
  const served = collectingSink<ServedRecord>()
  const reader = onlineReader({ store, features, clock, servedLog: served })
  const users = ['u0', 'u1', 'u2', 'u3', 'never']

  // Deterministic pseudo-random stream: bursts per user, events up to 4 s out of order, amounts in
  // tenths (inexact in binary, so a sum in another order would show).
  let seed = 7
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed / 2147483648
  }
  const batches: Buy[][] = []
  for (let b = 0; b < 40; b++) {
    const batch: Buy[] = []
    for (let i = 0; i < 6; i++) {
      const quiet = b >= 20 && b < 28 // a gap: every window slides past its tiles
      if (quiet) continue
      batch.push({
        user: `u${Math.floor(rand() * 4)}`,
        ts: 1_000_000 + b * 3000 - Math.floor(rand() * 4000),
        amount: Math.floor(rand() * 50) / 10,
      })
    }
    batches.push(batch)
  }

  async function readAt(t: number): Promise<void> {
    clock.set(t)
    await reader.get(users, names)
  }

  async function* source() {
    for (let b = 0; b < batches.length; b++) {
      // Writes of batch b become available 700 ms after its latest event.
      clock.set(1_000_000 + b * 3000 + 700)
      yield batches[b] as Buy[]
      await sink.flush()
      await readAt(1_000_000 + b * 3000 + 1500)
      await readAt(1_000_000 + b * 3000 + 2999)
    }
  }
  await createPipeline({ source: source(), features: group, sink, watermark: { outOfOrderness: '5s' } }).run()
  await sink.flush()
  // After the stream: windows decay; a tumbling window empties at its boundary.
  for (const dt of [5000, 15_000, 25_000, 35_000, 60_000, 600_000]) await readAt(1_000_000 + 40 * 3000 + dt)
  expect(sink.metrics().deadLetters).toBe(0)

  const reads = served.items
  const labels = {
    entity: reads.map((r) => r.entity),
    time: Float64Array.from(reads.map((r) => r.readTime)),
  }
  const joined = await asOfJoin(labels, log, {
    features: features.map((f) => ({ name: f.name, window: f.window })),
    includeEventTime: true,
  })
  const same = (name: string) => {
    const v = joined.getChild(name)
    const et = joined.getChild(`${name}__event_time`)
    return reads.every((r, i) => {
      if (r.feature !== name) return true
      const x = v?.get(i)
      return (x === null ? null : Number(x)) === r.value && (et?.get(i) ?? null) === r.eventTime
    })
  }
  for (const name of names) expect(same(name), name).toBe(true)

  // The reads cover every case of the reader: sums, decayed zeros, never-written nulls.
  const values = reads.map((r) => r.value)
  expect(values.filter((v) => typeof v === 'number' && v > 0 && !Number.isInteger(v)).length).toBeGreaterThan(
    50,
  )
  expect(values.filter((v) => v === 0).length).toBeGreaterThan(20)
  expect(reads.filter((r) => r.entity === 'never').every((r) => r.value === null)).toBe(true)
  const tileWrites = (await collect(log)).filter((w) => w.tileStart !== undefined)
  expect(tileWrites.length).toBeGreaterThan(100)

  const report = await skewAudit(reads, log, { features })
  expect(report.checked).toBe(reads.length)
  expect(report.mismatches).toEqual([])
  expect(report.matched).toBe(reads.length)

  // One served value off by a click: exactly that read is reported.
  const k = reads.findIndex((r) => r.feature === 'buys_30s' && typeof r.value === 'number' && r.value > 0)
  const tampered = reads.map((r, i) => (i === k ? { ...r, value: (r.value as number) + 1 } : r))
  const bad = await skewAudit(tampered, log, { features })
  expect(bad.mismatches).toEqual([
    {
      entity: reads[k]?.entity,
      feature: 'buys_30s',
      readTime: reads[k]?.readTime,
      served: (reads[k]?.value as number) + 1,
      logged: reads[k]?.value,
      servedEventTime: reads[k]?.eventTime,
      loggedEventTime: reads[k]?.eventTime,
    },
  ])
  expect(bad.byFeature.buys_30s?.mismatches).toBe(1)
  // Without the configs the audit cannot know the windows: a typed error, not a silent skip.
  await expect(skewAudit(reads, log)).rejects.toThrow(/tile records/)
})

async function collect(log: ReturnType<typeof memoryLog>): Promise<FeatureWrite[]> {
  const out: FeatureWrite[] = []
  const names = Object.keys(log.featureTypes)
  for await (const rows of log.scanRows({ features: names, includeStale: true })) out.push(...rows)
  return out
}
