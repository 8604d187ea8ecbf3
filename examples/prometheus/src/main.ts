/**
 * `pnpm --filter @skewless/example-prometheus start`: process a stream into Redis (REDIS_URL, default
 * redis://127.0.0.1:6379) and a Parquet log in a temp dir, then serve the metrics on
 * http://127.0.0.1:9464/metrics (PORT) until Ctrl-C.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { purchases, runMetricsDemo } from './metrics-demo.js'

const dir = await mkdtemp(join(tmpdir(), 'skewless-prometheus-'))
const demo = await runMetricsDemo({
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  logDir: join(dir, 'feature-log'),
  port: Number(process.env.PORT ?? 9464),
  events: purchases(20_000, 50, 3),
})
const c = demo.counts
console.log(
  `processed ${c.pipeline.eventsIn} events (${c.pipeline.deadLetters} dead letters), ${c.sink.applied} writes applied, ${c.logRows} log rows`,
)
console.log(`metrics: ${demo.metricsUrl}   (Ctrl-C to stop)`)
const stop = async () => {
  await demo.close()
  await rm(dir, { recursive: true, force: true })
  process.exit(0)
}
process.once('SIGINT', () => void stop())
process.once('SIGTERM', () => void stop())
