import type { NatsConnection } from '@nats-io/transport-node'
import fc from 'fast-check'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { natsSource } from '../src/index.js'
import { type Click, createStream, jetstream, publishClicks, readEvents } from './fixtures.js'
import { type NatsServerHandle, startNats } from './nats-server.js'

const TOTAL = 1200
let server: NatsServerHandle
let nc: NatsConnection

beforeAll(async () => {
  server = await startNats()
  nc = await server.connect()
  await createStream(nc, 'PROP', ['prop.>'])
  // Every 37th message is not JSON: dead letters sit between events at varying places.
  const js = jetstream(nc)
  await publishClicks(js, 0, TOTAL, (n) => `prop.${n % 5}`)
  for (let n = 0; n < TOTAL; n += 37) await js.publish(`prop.bad`, `not json ${n}`)
  await publishClicks(js, TOTAL, TOTAL, (n) => `prop.${n % 5}`)
})
afterAll(async () => {
  await nc?.close()
  await server?.stop()
})

it('stopped and resumed anywhere, with any batch and buffer sizes, a source reads every event once, in order', async () => {
  const quiet = { info() {}, warn() {}, error() {} }
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        batchSize: fc.integer({ min: 1, max: 300 }),
        bufferFactor: fc.integer({ min: 1, max: 4 }),
        maxWaitMs: fc.integer({ min: 0, max: 5 }),
        stops: fc.array(fc.integer({ min: 1, max: 900 }), { minLength: 1, maxLength: 5 }),
        slow: fc.boolean(),
      }),
      async ({ batchSize, bufferFactor, maxWaitMs, stops, slow }) => {
        const options = {
          servers: server.url,
          stream: 'PROP',
          batchSize,
          maxBufferedMessages: batchSize * bufferFactor + 1,
          maxWaitMs,
          logger: quiet,
        }
        const seen: number[] = []
        let position: number | undefined
        // Each stop: read at least that many more events, then stop (a crash after a checkpoint).
        for (const stop of [...stops, 2 * TOTAL]) {
          const want = Math.min(stop, 2 * TOTAL - seen.length)
          if (want === 0) break
          const read = await readEvents(natsSource<Click>(options), position, want, () =>
            slow ? new Promise((r) => setTimeout(r, 1)) : undefined,
          )
          for (const e of read.events) seen.push(e.n)
          position = read.position as number
        }
        expect(seen).toEqual(Array.from({ length: 2 * TOTAL }, (_, i) => i))
      },
    ),
    { numRuns: 12 },
  )
}, 120_000)
