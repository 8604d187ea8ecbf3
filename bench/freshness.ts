/**
 * `pnpm bench freshness`: `freshnessReport` over a large log, read as Arrow batches the way a Parquet
 * log's scan yields them (64k rows each, entity as a dictionary). 2M records of one feature, 100k
 * entities over 7 days, 240 samples, batch every 1h. Same-run baseline: one plain pass over the same
 * batches decoding the three columns the report reads (entity, event_time, available_time) — the
 * floor of any report that reads every record once; the report reads them once per partition plus once
 * for the bounds. Also run with a memory budget that forces 4 partitions. Reports wall time, records/s,
 * and the heap growth during the report (the log's batches are allocated before).
 *
 * Env: BENCH_RECORDS (2_000_000), BENCH_ENTITIES (100_000), BENCH_REPEAT (3; best time counts).
 */
import { performance } from 'node:perf_hooks'
import type { FeatureWrite } from '@skewless/core'
import { freshnessReport } from '@skewless/freshness'
import type { OfflineLog } from '@skewless/offline-log'
import {
  columnData,
  readStringColumn,
  readTimeColumn,
  writesToRecordBatch,
} from '@skewless/offline-log/adapter'
import type { RecordBatch } from 'apache-arrow'
import { xorshift } from './lib/rng.ts'

const RECORDS = Number(process.env.BENCH_RECORDS ?? 2_000_000)
const ENTITIES = Number(process.env.BENCH_ENTITIES ?? 100_000)
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3)
const T0 = Date.UTC(2026, 9, 1)
const SPAN = 7 * 86_400_000
const BATCH = 65_536

function generate(): RecordBatch[] {
  const rand = xorshift(0x5eed)
  const batches: RecordBatch[] = []
  for (let start = 0; start < RECORDS; start += BATCH) {
    const n = Math.min(BATCH, RECORDS - start)
    const writes: FeatureWrite[] = new Array(n)
    for (let i = 0; i < n; i++) {
      const eventTime = T0 + Math.floor(rand() * SPAN)
      writes[i] = {
        entity: `e${Math.floor(rand() * ENTITIES)}`,
        feature: 'x',
        value: rand(),
        eventTime,
        availableTime: eventTime + Math.floor(rand() * 5_000),
        version: start + i,
        outcome: 'applied',
      }
    }
    batches.push(writesToRecordBatch(writes, { x: 'double' }))
  }
  return batches
}

/** Just enough of an OfflineLog for the report: declared types and a scan over prebuilt batches. */
function batchLog(batches: RecordBatch[]): OfflineLog {
  return {
    featureTypes: { x: 'double' },
    async *scan() {
      yield* batches
    },
  } as unknown as OfflineLog
}

async function baseline(batches: RecordBatch[]): Promise<number> {
  let check = 0
  for await (const b of batchLog(batches).scan({ features: ['x'] })) {
    const e = readStringColumn(columnData(b, 'entity'))
    const ev = readTimeColumn(columnData(b, 'event_time'))
    const av = readTimeColumn(columnData(b, 'available_time'))
    check += e.values.length + (ev[0] as number) - (av[0] as number)
  }
  return check
}

async function best(run: () => Promise<unknown>): Promise<{ ms: number; heapMb: number }> {
  let ms = Number.POSITIVE_INFINITY
  let heapMb = 0
  for (let r = 0; r < REPEAT; r++) {
    globalThis.gc?.()
    const heap0 = process.memoryUsage().heapUsed
    let peak = heap0
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().heapUsed)
    }, 20)
    const t0 = performance.now()
    await run()
    ms = Math.min(ms, performance.now() - t0)
    clearInterval(timer)
    peak = Math.max(peak, process.memoryUsage().heapUsed)
    heapMb = Math.max(heapMb, (peak - heap0) / 2 ** 20)
  }
  return { ms, heapMb }
}

const batches = generate()
const log = batchLog(batches)
const rows: Record<string, Record<string, number>> = {}
const base = await best(() => baseline(batches))
rows['baseline: decode 3 columns once'] = {
  ms: Math.round(base.ms),
  recordsPerS: Math.round(RECORDS / (base.ms / 1000)),
  heapMb: Math.round(base.heapMb),
}
let partitions = 0
const whole = await best(async () => {
  const r = await freshnessReport(log, { batchEvery: '1h' })
  partitions = r.features[0]?.partitions ?? 0
})
rows[`report (default memory: ${partitions} partitions)`] = {
  ms: Math.round(whole.ms),
  recordsPerS: Math.round(RECORDS / (whole.ms / 1000)),
  heapMb: Math.round(whole.heapMb),
}
const split = await best(() =>
  freshnessReport(log, { batchEvery: '1h', memoryBytes: (ENTITIES * 240 * 16) / 4 }),
)
rows['report (4 partitions)'] = {
  ms: Math.round(split.ms),
  recordsPerS: Math.round(RECORDS / (split.ms / 1000)),
  heapMb: Math.round(split.heapMb),
}
console.table(rows)
console.log(
  JSON.stringify({ bench: 'freshness', records: RECORDS, entities: ENTITIES, repeat: REPEAT, results: rows }),
)
