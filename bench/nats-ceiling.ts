/**
 * `pnpm bench nats-ceiling`: the ceiling of @skewless/source-nats on this machine — consume
 * a JetStream stream and decode JSON, no processing — for docs/decisions/nats-consumer.md. A quick
 * script beside the registered benchmarks. Starts its own nats-server (file storage).
 *
 * Rows, each over the same N messages:
 * - `source`: `natsSource` (ordered consumer, client callback into arrays, batches of 1000);
 * - `source-4p`: `natsPartitionSources`, 4 partitions read at once;
 * - `iterator`: the client's own async iterator over an ordered consumer (`for await`, one promise
 *   per message), decoding and assembling arrays of 1000: the design the source did not take;
 * - `callback-raw`: the client's callback alone, decoding into an array (no batching logic): what
 *   the client allows.
 *
 * Env: BENCH_EVENTS (default 200_000), BENCH_ROUNDS (default 5; the best round of each row is kept).
 */
import { readFileSync } from 'node:fs'
import { natsPartitionSources, natsSource } from '../packages/source-nats/src/index.ts'
import {
  createStream,
  DeliverPolicy,
  jetstream,
  publishClicks,
} from '../packages/source-nats/test/fixtures.ts'
import { startNats } from '../packages/source-nats/test/nats-server.ts'

const N = Number(process.env.BENCH_EVENTS ?? 200_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const server = await startNats()
const nc = await server.connect()
const js = jetstream(nc)
await createStream(nc, 'BENCH', ['bench.>'])
const pubStart = performance.now()
await publishClicks(
  js,
  0,
  N,
  (n) => `bench.${n % 4}.u${n % 100_000}`,
  (n) => `user-${n % 100_000}`,
)
const publishPerS = N / ((performance.now() - pubStart) / 1000)
const silent = { info() {}, warn() {}, error() {} }

async function viaSource(): Promise<number> {
  const source = natsSource({
    ...(process.env.BENCH_SHARED ? { connection: nc } : { servers: server.url }),
    stream: 'BENCH',
    batchSize: Number(process.env.BENCH_BATCH ?? 1000),
    maxBufferedMessages: Number(process.env.BENCH_BUFFER ?? 4000),
    logger: silent,
  })
  const ac = new AbortController()
  let n = 0
  for await (const b of source.open(undefined, { signal: ac.signal })) {
    n += b.events.length
    if (n >= N) break
  }
  if (process.env.BENCH_VERBOSE) console.error(source.metrics())
  return n
}

async function viaPartitions(): Promise<number> {
  const sources = natsPartitionSources({
    servers: server.url,
    stream: 'BENCH',
    partitions: [0, 1, 2, 3],
    partitionSubject: 'bench.{partition}.*',
    batchSize: 1000,
    logger: silent,
  })
  const counts = await Promise.all(
    sources.map(async (s) => {
      let n = 0
      for await (const b of s.open(undefined, { signal: new AbortController().signal })) {
        n += b.events.length
        if (n >= N / 4) break
      }
      return n
    }),
  )
  return counts.reduce((a, b) => a + b, 0)
}

async function viaIterator(): Promise<number> {
  const c = await js.consumers.get('BENCH', { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 1 })
  const messages = await c.consume({ max_messages: 2000 })
  const td = new TextDecoder()
  let batch: unknown[] = []
  let n = 0
  for await (const m of messages) {
    batch.push(JSON.parse(td.decode(m.data)))
    if (batch.length === 1000) {
      n += batch.length
      batch = []
      if (n >= N) break
    }
  }
  await messages.close()
  await c.delete().catch(() => undefined)
  return n
}

async function viaCallback(): Promise<number> {
  const c = await js.consumers.get('BENCH', { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 1 })
  const td = new TextDecoder()
  const out: unknown[] = []
  let resolve = () => {}
  const done = new Promise<void>((r) => {
    resolve = r
  })
  const messages = await c.consume({
    max_messages: 2000,
    callback: (m) => {
      out.push(JSON.parse(td.decode(m.data)))
      if (out.length >= N) resolve()
    },
  })
  await done
  await messages.close()
  await c.delete().catch(() => undefined)
  return out.length
}

// Rounds interleave the rows (the machine is shared: load drifts), and each row keeps its best.
const rowsDef = [
  ['source', viaSource],
  ['source-4p', viaPartitions],
  ['iterator', viaIterator],
  ['callback-raw', viaCallback],
] as const
const rows = rowsDef.map(([name]) => ({
  name,
  perS: 0,
  cpuUsPerMsg: Number.POSITIVE_INFINITY,
  serverCpuUsPerMsg: Number.POSITIVE_INFINITY,
}))
/** CPU time (µs) nats-server has used so far, from /proc (Linux). */
function serverCpuUs(): number {
  const stat = readFileSync(`/proc/${server.pid()}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100 // utime + stime, in clock ticks of 10 ms
}
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < rowsDef.length; i++) {
    const [name, fn] = rowsDef[i]!
    const t = performance.now()
    const cpu = process.cpuUsage()
    const serverCpu = serverCpuUs()
    const n = await fn()
    if (n < N) throw new Error(`${name}: read ${n} of ${N}`)
    const used = process.cpuUsage(cpu)
    const row = rows[i]!
    row.perS = Math.max(row.perS, N / ((performance.now() - t) / 1000))
    // This process's CPU per message: less sensitive than wall time to what else the machine runs.
    row.cpuUsPerMsg = Math.min(row.cpuUsPerMsg, (used.user + used.system) / N)
    row.serverCpuUsPerMsg = Math.min(row.serverCpuUsPerMsg, (serverCpuUs() - serverCpu) / N)
  }
}
for (const { name, perS, cpuUsPerMsg, serverCpuUsPerMsg } of rows) {
  console.log(
    `${name.padEnd(14)} ${Math.round(perS).toLocaleString('en').padStart(12)} msg/s  node ${cpuUsPerMsg.toFixed(2)} µs CPU/msg  nats-server ${serverCpuUsPerMsg.toFixed(2)} µs CPU/msg`,
  )
}
await nc.close()
await server.stop()
const get = (name: string) => Math.round(rows.find((r) => r.name === name)?.perS ?? 0)
const cpuOf = (name: string) => Number((rows.find((r) => r.name === name)?.cpuUsPerMsg ?? 0).toFixed(2))
console.log(
  JSON.stringify({
    bench: 'nats-ceiling',
    events: N,
    publish_per_s: Math.round(publishPerS),
    source_per_s: get('source'),
    source_4p_per_s: get('source-4p'),
    iterator_per_s: get('iterator'),
    callback_raw_per_s: get('callback-raw'),
    source_cpu_us_per_msg: cpuOf('source'),
    iterator_cpu_us_per_msg: cpuOf('iterator'),
    callback_raw_cpu_us_per_msg: cpuOf('callback-raw'),
    source_server_cpu_us_per_msg: Number((rows[0]?.serverCpuUsPerMsg ?? 0).toFixed(2)),
    source_4p_server_cpu_us_per_msg: Number((rows[1]?.serverCpuUsPerMsg ?? 0).toFixed(2)),
  }),
)
