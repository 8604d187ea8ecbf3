/**
 * `pnpm bench backfill`: backfill throughput into a memory log, before and after issue 12.
 * "before" is the old path (bench/lib/backfill-batched.ts: one micro-batch per 4096-event source
 * chunk); "after" is `backfill()` (one micro-batch per event-time instant, whatever the chunking).
 * Same events, same features (count over 10 min tumbling, sum over 1 h hopping by 5 min), interleaved
 * rounds, median. Two streams: sparse (~1 event per ms instant: every event is its own micro-batch,
 * the worst case) and dense (~20 events per instant).
 *
 * Env: BENCH_EVENTS (default 500_000), BENCH_KEYS (default 10_000), BENCH_ROUNDS (default 3).
 */
import { count, defineFeatures, hopping, sum, tumbling } from '@skewless/core'
import { backfill, memoryLog } from '@skewless/offline-log'
import { backfillBatched } from './lib/backfill-batched.ts'
import { xorshift } from './lib/rng.ts'

const EVENTS = Number(process.env.BENCH_EVENTS ?? 500_000)
const KEYS = Number(process.env.BENCH_KEYS ?? 10_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const T0 = Date.UTC(2026, 10, 1)

interface Ev {
  user: string
  ts: number
  amount: number
}

const group = defineFeatures<Ev>({
  entity: (e) => e.user,
  eventTime: (e) => e.ts,
  features: {
    clicks_10m: { window: tumbling('10m'), aggregate: count() },
    spend_1h: { window: hopping('1h', '5m'), aggregate: sum(), value: (e) => e.amount },
  },
})

function generate(eventsPerMs: number): Ev[] {
  const rand = xorshift(0x9e3779b9)
  const names = Array.from({ length: KEYS }, (_, i) => `user-${i}`)
  const out: Ev[] = new Array(EVENTS)
  for (let i = 0; i < EVENTS; i++) {
    out[i] = {
      user: names[Math.floor(rand() * KEYS)] as string,
      ts: T0 + Math.floor(i / eventsPerMs),
      amount: Math.floor(rand() * 100),
    }
  }
  return out
}

async function once(kind: 'before' | 'after', events: Ev[]): Promise<{ eps: number; records: number }> {
  const log = memoryLog({ features: group.describe() })
  const run = kind === 'before' ? backfillBatched : backfill
  const t0 = performance.now()
  const r = await run({ source: events, features: group, log, watermark: { outOfOrderness: '1s' } })
  const s = (performance.now() - t0) / 1000
  return { eps: EVENTS / s, records: r.records }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const rows: { stream: string; before: number; after: number; recordsBefore: number; recordsAfter: number }[] =
  []
for (const [stream, perMs] of [
  ['sparse (1 event/instant)', 1],
  ['dense (20 events/instant)', 20],
] as const) {
  const events = generate(perMs)
  const before: number[] = []
  const after: number[] = []
  let recordsBefore = 0
  let recordsAfter = 0
  for (let r = 0; r < ROUNDS; r++) {
    const b = await once('before', events)
    const a = await once('after', events)
    before.push(b.eps)
    after.push(a.eps)
    recordsBefore = b.records
    recordsAfter = a.records
  }
  rows.push({ stream, before: median(before), after: median(after), recordsBefore, recordsAfter })
}

console.log(
  `backfill of ${EVENTS} events over ${KEYS} keys into a memory log, median of ${ROUNDS} interleaved rounds`,
)
console.log(
  'stream                       | before ev/s | after ev/s | after/before | log records before → after',
)
for (const r of rows) {
  console.log(
    `${r.stream.padEnd(28)} | ${Math.round(r.before).toString().padStart(11)} | ${Math.round(r.after).toString().padStart(10)} | ${(r.after / r.before).toFixed(2).padStart(12)} | ${r.recordsBefore} → ${r.recordsAfter}`,
  )
}
const sparse = rows[0] as (typeof rows)[number]
const dense = rows[1] as (typeof rows)[number]
console.log(
  JSON.stringify({
    bench: 'backfill',
    events: EVENTS,
    events_per_s_before: Math.round(sparse.before),
    events_per_s_after: Math.round(sparse.after),
    dense_events_per_s_before: Math.round(dense.before),
    dense_events_per_s_after: Math.round(dense.after),
  }),
)
