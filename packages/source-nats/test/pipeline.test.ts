import type { NatsConnection } from '@nats-io/transport-node'
import {
  type CommittedCheckpoint,
  collectingSink,
  count,
  createPipeline,
  defineFeatures,
  type FeatureUpdate,
  type Pipeline,
  unbounded,
} from '@skewless/core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { natsPartitionSources } from '../src/index.js'
import { type Click, createStream, jetstream, publishClicks } from './fixtures.js'
import { type NatsServerHandle, startNats } from './nats-server.js'

const TOTAL = 3000
const T0 = 1_700_000_000_000
let server: NatsServerHandle
let nc: NatsConnection

beforeAll(async () => {
  server = await startNats({ config: 'mappings { "clicks.*": "clicks.{{partition(3,1)}}.{{wildcard(1)}}" }' })
  nc = await server.connect()
  await createStream(nc, 'CLICKS', ['clicks.*.*'])
  await publishClicks(
    jetstream(nc),
    0,
    TOTAL,
    (n) => `clicks.u${n % 11}`,
    (n) => `u${n % 11}`,
  )
})
afterAll(async () => {
  await nc?.close()
  await server?.stop()
})

const features = () =>
  defineFeatures<Click>({
    entity: (e) => e.user,
    eventTime: (e) => T0 + e.n,
    features: { clicks: { window: unbounded(), aggregate: count() } },
  })
const sources = () =>
  natsPartitionSources<Click>({
    servers: server.url,
    stream: 'CLICKS',
    partitions: [0, 1, 2],
    partitionSubject: 'clicks.{partition}.*',
    batchSize: 200,
  })

/** Poll (bounded: 20 s) until `p` has read `n` events. */
async function waitForEvents(p: Pipeline, n: number): Promise<void> {
  for (let i = 0; i < 1000 && p.metrics.eventsIn < n; i++) await new Promise((r) => setTimeout(r, 20))
  if (p.metrics.eventsIn < n)
    throw new Error(`the pipeline read ${p.metrics.eventsIn} events of the ${n} expected`)
}

it('feeds createPipeline; a pipeline resumed from a checkpoint counts every click exactly once', async () => {
  const firstSink = collectingSink<FeatureUpdate>()
  const first = createPipeline<Click>({ sources: sources(), features: features(), sink: firstSink })
  const running = first.run()
  await waitForEvents(first, TOTAL / 2)
  const cp = await first.checkpoint()
  await first.close()
  await running
  expect(Object.keys(cp.positions).sort()).toEqual([
    'CLICKS/partition=0',
    'CLICKS/partition=1',
    'CLICKS/partition=2',
  ])
  const covered = cp.eventsPerSource.reduce((a, b) => a + b, 0)
  expect(covered).toBeGreaterThan(0)

  const sink = collectingSink<FeatureUpdate>()
  const checkpoint: CommittedCheckpoint = {
    format: 'skewless.checkpoint/1',
    operator: cp.checkpoint,
    sources: cp.positions,
    takenAt: 0,
  }
  const second = createPipeline<Click>({ sources: sources(), features: features(), sink, checkpoint })
  // A restored pipeline's counters go on from the checkpoint's.
  const before = second.metrics.eventsIn
  const resumed = second.run()
  await waitForEvents(second, before + TOTAL - covered)
  await second.close()
  expect((await resumed).metrics.eventsIn - before).toBe(TOTAL - covered)
  // Counts only grow: a user's highest count over both runs is its total. (A partition the first
  // run read to its end emits nothing in the second: its users' totals are in the first run's.)
  // A duplicate would push a count past the total, a gap keep it below.
  const last = new Map<string, number>()
  for (const u of [...firstSink.items, ...sink.items])
    last.set(u.entity, Math.max(last.get(u.entity) ?? 0, u.value as number))
  const expected = new Map<string, number>()
  for (let n = 0; n < TOTAL; n++) expected.set(`u${n % 11}`, (expected.get(`u${n % 11}`) ?? 0) + 1)
  expect(Object.fromEntries(last)).toEqual(Object.fromEntries(expected))
}, 60_000)
