/**
 * The clickstream example, end to end on real servers:
 *
 *   producer ─► JetStream stream CLICKS, 4 partitions (clicks.<partition>.<user>)
 *                  │ partitions 0,1                 │ partitions 2,3
 *                  ▼                                ▼
 *              worker A (process)               worker B (process)      runWorker: one pipeline,
 *                  │                                │                   checkpoint and log per partition
 *                  ├──► Redis (standalone, or Cluster with --cluster) ◄─┤
 *                  ▼                                ▼
 *              <out>/clicks-log/partition=0,1   <out>/clicks-log/partition=2,3
 *                                   │
 *              online features ◄── Redis       training set ◄── as-of join over every partition
 *
 * Usage (from the repository root; a nats-server -js and a Redis must be running):
 *   npx tsx examples/clickstream/src/main.ts [--nats url] [--redis url | --cluster host:port,...]
 *     [--out dir] [--events n] [--users n] [--reset]
 * The last line it prints is `RESULT <json>`: what it read online and the training rows.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { parseNodes, type RedisTarget } from './clickstream.js'
import { runClickstream } from './run.js'

const { values } = parseArgs({
  options: {
    nats: { type: 'string', default: 'nats://127.0.0.1:4222' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    cluster: { type: 'string' },
    out: { type: 'string' },
    events: { type: 'string', default: '8000' },
    users: { type: 'string', default: '50' },
    reset: { type: 'boolean', default: false },
  },
})
const redis: RedisTarget = values.cluster ? { cluster: parseNodes(values.cluster) } : { url: values.redis }
const out =
  values.out === undefined ? await mkdtemp(join(tmpdir(), 'skewless-clickstream-')) : resolve(values.out)
try {
  const result = await runClickstream({
    nats: values.nats,
    redis,
    out,
    events: Number(values.events),
    users: Number(values.users),
    reset: values.reset,
  })
  if (values.out !== undefined) console.log(`the log stays in ${join(out, 'clicks-log')}`)
  console.log(`RESULT ${JSON.stringify(result)}`)
} catch (err) {
  console.error(`clickstream: ${err instanceof Error ? err.message : String(err)}`)
  process.exitCode = 1
} finally {
  if (values.out === undefined) await rm(out, { recursive: true, force: true })
}
