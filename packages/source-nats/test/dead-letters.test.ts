import type { NatsConnection } from '@nats-io/transport-node'
import type { Sink } from '@skewless/core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type NatsDeadLetter, natsSource } from '../src/index.js'
import { type Click, createStream, jetstream, readEvents } from './fixtures.js'
import { type NatsServerHandle, startNats } from './nats-server.js'

let server: NatsServerHandle
let nc: NatsConnection

beforeAll(async () => {
  server = await startNats()
  nc = await server.connect()
  await createStream(nc, 'MIXED', ['mixed.>'])
  const js = jetstream(nc)
  // seq 1..6: good, not JSON, good, bad UTF-8, good, not JSON
  await js.publish('mixed.a', JSON.stringify({ user: 'a', n: 1 }))
  await js.publish('mixed.b', '{"user": "b", ')
  await js.publish('mixed.a', JSON.stringify({ user: 'a', n: 3 }))
  await js.publish('mixed.c', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))
  await js.publish('mixed.a', JSON.stringify({ user: 'a', n: 5 }))
  await js.publish('mixed.d', 'nope')
})
afterAll(async () => {
  await nc?.close()
  await server?.stop()
})

/** A sink that keeps what it is given. */
function memorySink(): Sink<NatsDeadLetter> & { items: NatsDeadLetter[] } {
  const items: NatsDeadLetter[] = []
  return { items, write: (b) => void items.push(...b), flush: async () => {}, close: async () => {} }
}

it('messages the decoder rejects go to dead letters, counted, and the position moves past them', async () => {
  const deadLetters = memorySink()
  const source = natsSource<Click>({ servers: server.url, stream: 'MIXED', batchSize: 1, deadLetters })
  const read = await readEvents(source, undefined, 3, async (_b, seen) => {
    // After the last good message, wait until the trailing bad one has been dead-lettered too.
    if (seen === 3) while (deadLetters.items.length < 3) await new Promise((r) => setTimeout(r, 10))
  })
  expect(read.events.map((e) => e.n)).toEqual([1, 3, 5])
  // A batch's position covers the dead letters received before it was taken (a batch that
  // empties the buffer ends at the last sequence received), never the next event.
  const positions = read.batches.map((b) => b.position as number)
  expect(positions[0]).toBeGreaterThanOrEqual(1)
  expect(positions[0]).toBeLessThanOrEqual(2)
  expect(positions[1]).toBeGreaterThanOrEqual(3)
  expect(positions[1]).toBeLessThanOrEqual(4)
  expect(positions[2]).toBeGreaterThanOrEqual(5)
  expect(deadLetters.items.map((d) => [d.seq, d.subject])).toEqual([
    [2, 'mixed.b'],
    [4, 'mixed.c'],
    [6, 'mixed.d'],
  ])
  expect(deadLetters.items[0]!.message).toMatch(/JSON/)
  expect(deadLetters.items[0]!.reason).toBe('undecodable')
  expect(deadLetters.items[1]!.data).toEqual(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))
  expect(source.metrics()).toMatchObject({ messages: 6, events: 3, deadLetters: 3, buffered: 0 })

  // Resuming after the 1st event meets the 1st dead letter again (dead letters are at-least-once),
  // resuming after the 2nd does not.
  const again = memorySink()
  const resumed = natsSource<Click>({
    servers: server.url,
    stream: 'MIXED',
    batchSize: 1,
    deadLetters: again,
  })
  const r = await readEvents(resumed, 3, 1)
  expect(r.events.map((e) => e.n)).toEqual([5])
  // (6, rejected too, is written with that batch when it had arrived by then.)
  expect(again.items.map((d) => d.seq).slice(0, 1)).toEqual([4])
  expect(again.items.every((d) => d.seq >= 4)).toBe(true)
})

it('a pluggable decoder; without a dead-letter sink rejected messages are still counted', async () => {
  const source = natsSource<string>({
    servers: server.url,
    stream: 'MIXED',
    decoder: (data, subject) => {
      if (subject !== 'mixed.a') throw new Error(`not a click subject: ${subject}`)
      return new TextDecoder().decode(data)
    },
    logger: { info() {}, warn() {}, error() {} },
  })
  const read = await readEvents(source, undefined, 3)
  expect(read.events.map((s) => JSON.parse(s).n)).toEqual([1, 3, 5])
  expect(source.metrics().deadLetters).toBeGreaterThanOrEqual(2)
})

it('a batch made only of rejected messages still ends in a position once an event follows', async () => {
  // Everything up to seq 4 rejected: the first batch holds seq 5 only, and covers 1..5 (and 6,
  // rejected too, when it arrived before the batch was taken).
  const source = natsSource<Click>({
    servers: server.url,
    stream: 'MIXED',
    decoder: (data, subject) => {
      const e = JSON.parse(new TextDecoder().decode(data)) as Click
      if (subject === 'mixed.a' && e.n < 5) throw new Error('too early')
      return e
    },
    logger: { info() {}, warn() {}, error() {} },
  })
  const read = await readEvents(source, undefined, 1)
  expect(read.events.map((e) => e.n)).toEqual([5])
  expect([5, 6]).toContain(read.position)
})
