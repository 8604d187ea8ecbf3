import type { NatsConnection } from '@nats-io/transport-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { natsPartitionSources, natsSource } from '../src/index.js'
import { type Click, createStream, jetstream, publishClicks, readEvents } from './fixtures.js'
import { type NatsServerHandle, startNats } from './nats-server.js'

const PARTITIONS = 3
let server: NatsServerHandle
let nc: NatsConnection

beforeAll(async () => {
  // Producers publish `clicks.<user>`; the server maps each to one of 3 partitions by the user.
  server = await startNats({
    config: `mappings { "clicks.*": "clicks.{{partition(${PARTITIONS},1)}}.{{wildcard(1)}}" }`,
  })
  nc = await server.connect()
  await createStream(nc, 'CLICKS', ['clicks.*.*'])
  await publishClicks(
    jetstream(nc),
    0,
    3000,
    (n) => `clicks.u${n % 11}`,
    (n) => `u${n % 11}`,
  )
  await createStream(nc, 'PLAIN', ['plain.>'])
  await publishClicks(jetstream(nc), 0, 2500, (n) => `plain.${n % 3}`)
})
afterAll(async () => {
  await nc?.close()
  await server?.stop()
})

const numbers = (events: Click[]) => events.map((e) => e.n)
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

describe('natsSource', () => {
  it('reads exactly the published messages, in order, in batches of at most batchSize', async () => {
    const source = natsSource<Click>({ servers: server.url, stream: 'PLAIN', batchSize: 400 })
    const read = await readEvents(source, undefined, 2500)
    expect(numbers(read.events)).toEqual(range(0, 2500))
    for (const b of read.batches) expect(b.events.length).toBeGreaterThan(0)
    for (const b of read.batches) expect(b.events.length).toBeLessThanOrEqual(400)
    // The position is the stream sequence of a batch's last message (sequences start at 1).
    let seen = 0
    for (const b of read.batches) {
      seen += b.events.length
      expect(b.position).toBe(seen)
    }
    expect(source.name).toBe('PLAIN')
    expect(source.metrics()).toMatchObject({
      messages: 2500,
      events: 2500,
      deadLetters: 0,
      lastSequence: 2500,
      buffered: 0,
    })
  })

  it('resumes from any position with no gap and no duplicate', async () => {
    const source = natsSource<Click>({ servers: server.url, stream: 'PLAIN', batchSize: 128, maxWaitMs: 5 })
    const events: Click[] = []
    let position: number | undefined
    // Stop after a few batches each time, as a crash after a checkpoint would, and resume.
    while (events.length < 2500) {
      const read = await readEvents(source, position, Math.min(300, 2500 - events.length))
      events.push(...read.events)
      position = read.position as number
    }
    expect(numbers(events)).toEqual(range(0, 2500))
    const rest = natsSource<Click>({ servers: server.url, stream: 'PLAIN' })
    expect(numbers((await readEvents(rest, 1700, 800)).events)).toEqual(range(1700, 2500))
  })

  it('reads one subject filter of a stream', async () => {
    const source = natsSource<Click>({ servers: server.url, stream: 'PLAIN', filterSubject: 'plain.1' })
    const read = await readEvents(source, undefined, 833)
    expect(numbers(read.events)).toEqual(range(0, 2500).filter((n) => n % 3 === 1))
    expect(source.name).toBe('PLAIN/plain.1')
  })

  it('stops pulling when the pipeline falls behind, and resumes exactly where it paused', async () => {
    const source = natsSource<Click>({
      servers: server.url,
      stream: 'PLAIN',
      batchSize: 50,
      maxBufferedMessages: 100,
      maxWaitMs: 1,
    })
    const read = await readEvents(source, undefined, 2500, () => new Promise((r) => setTimeout(r, 2)))
    expect(numbers(read.events)).toEqual(range(0, 2500))
    expect(source.metrics().pauses).toBeGreaterThan(0)
  })
})

describe('natsPartitionSources', () => {
  it('one source per partition: each reads its partition in order; together they read every message once', async () => {
    const sources = natsPartitionSources<Click>({
      servers: server.url,
      stream: 'CLICKS',
      partitions: [0, 1, 2],
      partitionSubject: 'clicks.{partition}.*',
      batchSize: 256,
    })
    expect(sources.map((s) => s.name)).toEqual([
      'CLICKS/partition=0',
      'CLICKS/partition=1',
      'CLICKS/partition=2',
    ])
    // How many messages each partition holds, according to the server.
    const js = jetstream(nc)
    const counts: number[] = []
    for (let p = 0; p < PARTITIONS; p++) {
      const c = await js.consumers.get('CLICKS', { filter_subjects: `clicks.${p}.*` })
      counts.push((await c.info(true)).num_pending)
      await c.delete()
    }
    expect(counts.reduce((a, b) => a + b, 0)).toBe(3000)
    const reads = await Promise.all(sources.map((s, p) => readEvents(s, undefined, counts[p]!)))
    const userPartition = new Map<string, number>()
    reads.forEach((r, p) => {
      const ns = numbers(r.events)
      expect(ns).toEqual([...ns].sort((a, b) => a - b))
      // The mapping hashes the user: a user's clicks are all in one partition.
      for (const e of r.events) {
        expect(userPartition.get(e.user) ?? p).toBe(p)
        userPartition.set(e.user, p)
      }
    })
    const all = reads.flatMap((r) => numbers(r.events)).sort((a, b) => a - b)
    expect(all).toEqual(range(0, 3000))
  })

  it('resumes each partition from its own position', async () => {
    const [p1] = natsPartitionSources<Click>({
      servers: server.url,
      stream: 'CLICKS',
      partitions: [1],
      partitionSubject: 'clicks.{partition}.*',
      batchSize: 10,
    })
    const first = await readEvents(p1!, undefined, 25)
    const all = await readEvents(p1!, undefined, 200)
    const rest = await readEvents(p1!, first.position, 200 - first.events.length)
    expect(numbers([...first.events, ...rest.events])).toEqual(numbers(all.events))
  })
})
