/**
 * A clickstream worker process: `runWorker` over this worker's partitions of the CLICKS stream,
 * into Redis and the partitioned Parquet log. It prints `health <url>` once it runs; SIGTERM
 * checkpoints every partition, closes everything and lets the process exit (code 0).
 *
 *   npx tsx examples/clickstream/src/worker.ts --nats nats://127.0.0.1:4222 \
 *     --redis redis://127.0.0.1:6379 --log ./clicks-log --partitions 0,1 [--health-port 9464]
 *   (--cluster host:port,host:port instead of --redis for a Redis Cluster)
 */
import { parseArgs } from 'node:util'
import { natsPartitionSources } from '@skewless/source-nats'
import { runWorker } from '@skewless/worker'
import {
  type Click,
  features,
  PARTITION_SUBJECT,
  parseNodes,
  type RedisTarget,
  STREAM,
  store,
} from './clickstream.js'

const { values } = parseArgs({
  options: {
    nats: { type: 'string', default: 'nats://127.0.0.1:4222' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    cluster: { type: 'string' },
    log: { type: 'string' },
    partitions: { type: 'string' },
    'health-port': { type: 'string', default: '0' },
    'checkpoint-interval': { type: 'string', default: '2s' },
  },
})
if (values.log === undefined || values.partitions === undefined) {
  console.error(
    'usage: worker.ts --log <dir> --partitions 0,1 [--nats url] [--redis url | --cluster host:port,...]',
  )
  process.exit(2)
}
const target: RedisTarget = values.cluster ? { cluster: parseNodes(values.cluster) } : { url: values.redis }

const worker = await runWorker<Click>({
  definitions: features,
  partitions: values.partitions.split(',').map(Number),
  source: (p) => {
    const [source] = natsPartitionSources<Click>({
      servers: values.nats,
      stream: STREAM,
      partitions: [p],
      partitionSubject: PARTITION_SUBJECT,
    })
    if (source === undefined) throw new Error(`no source for partition ${p}`)
    return source
  },
  store: (p) => store(target, p),
  log: values.log,
  logOptions: { workers: 1 },
  checkpointInterval: values['checkpoint-interval'],
  health: { port: Number(values['health-port']) },
})
process.stdout.write(`health ${worker.healthUrl}\n`)
const summary = await worker.closed
const failed = summary.partitions.filter((p) => p.error !== undefined)
process.stdout.write(
  `closed: ${summary.partitions.length} partition(s) checkpointed${failed.length > 0 ? `, ${failed.length} failed` : ''}\n`,
)
