/**
 * Run the feature server on generated data:
 *
 *   REDIS_URL=redis://127.0.0.1:6379 PORT=8080 npx tsx examples/serving/src/main.ts [--out <dir>]
 *   curl -s localhost:8080/get-online-features -d '{"entities":["user-001"]}'
 *
 * It backfills two hours of page views into `<dir>/feature-log`, materializes Redis, serves until
 * Ctrl-C, then writes the served values to `<dir>/served/` and prints the audit command.
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { redisStore } from '@skewless/online-redis'
import { features, generateViews } from './features.js'
import { loadFeatures } from './load.js'
import { parquetServedLog } from './served-log.js'
import { createFeatureServer } from './server.js'

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--')),
  options: { out: { type: 'string' } },
})
const dir = values.out ? resolve(values.out) : await mkdtemp(join(tmpdir(), 'skewless-serving-'))
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const logDir = join(dir, 'feature-log')

const views = generateViews(Date.now() - 10_000)
const loaded = await loadFeatures({ redisUrl, logDir, views })
console.log(
  `backfilled ${loaded.records} records into ${logDir}; ${loaded.loaded} values into Redis at ${redisUrl}`,
)

const store = redisStore({ url: redisUrl, prefix: 'serving-example:' })
const servedLog = await parquetServedLog({ dir: join(dir, 'served') })
const server = createFeatureServer({ store, features: features.describe(), servedLog })
const url = await server.listen(Number(process.env.PORT ?? 8080))
console.log(`serving on ${url}: curl -s ${url}/get-online-features -d '{"entities":["user-001","user-002"]}'`)

process.once('SIGINT', async () => {
  await server.close()
  await store.close()
  console.log(`\n${JSON.stringify(server.metrics())}`)
  for (const f of servedLog.files) console.log(`audit: pnpm skewless audit ${logDir} --served ${f}`)
})
