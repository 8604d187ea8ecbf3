import { jetstreamManager } from '@nats-io/jetstream'
import { afterEach, expect, it } from 'vitest'
import {
  NatsConsumerError,
  type NatsSourceLogger,
  NatsUnavailableError,
  natsPartitionSources,
  natsSource,
} from '../src/index.js'
import { type Click, createStream, jetstream, publishClicks, readEvents } from './fixtures.js'
import { type NatsServerHandle, startNats } from './nats-server.js'

const servers: NatsServerHandle[] = []
async function start(options?: Parameters<typeof startNats>[0]): Promise<NatsServerHandle> {
  const s = await startNats(options)
  servers.push(s)
  return s
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()))
})

/** A logger that keeps its lines. */
function memoryLogger(): NatsSourceLogger & { lines: string[] } {
  const lines: string[] = []
  const keep = (level: string) => (fields: object, message: string) => {
    lines.push(`${level} ${message} ${JSON.stringify(fields)}`)
    if (process.env.DEBUG_NATS_SOURCE)
      console.error(Date.now() % 100000, level, message, JSON.stringify(fields))
  }
  return { lines, info: keep('info'), warn: keep('warn'), error: keep('error') }
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

it('a nats-server SIGKILLed and restarted mid-stream on its store loses nothing and duplicates nothing', async () => {
  const server = await start()
  const nc = await server.connect()
  await createStream(nc, 'FAULT', ['fault.>'])
  const js = jetstream(nc)
  await publishClicks(js, 0, 3000, (n) => `fault.${n % 4}`)
  const logger = memoryLogger()
  const source = natsSource<Click>({
    servers: server.url,
    stream: 'FAULT',
    batchSize: 100,
    maxBufferedMessages: 200,
    reconnectWaitMs: 100,
    maxReconnectTimeMs: 30_000,
    logger,
  })
  // Phase B is published once the server is back, on a fresh connection (the publisher's own
  // reconnects are not under test).
  let restarted: Promise<void> | undefined
  let published = 'not yet'
  const ac = new AbortController()
  const deadline = setTimeout(() => ac.abort(), 45_000)
  const events: Click[] = []
  for await (const b of source.open(undefined, { signal: ac.signal })) {
    for (const e of b.events) events.push(e)
    if (restarted === undefined && events.length >= 1000) {
      await server.kill()
      restarted = server.restart().then(async () => {
        const pub = await server.connect()
        await publishClicks(jetstream(pub), 3000, 2000, (n) => `fault.${n % 4}`)
        await pub.close()
        published = 'yes'
      })
      restarted.catch((err: Error) => {
        published = `failed: ${err.message}`
      })
    }
    if (events.length >= 5000) break
    await new Promise((r) => setTimeout(r, 2))
  }
  clearTimeout(deadline)
  await restarted?.catch(() => undefined)
  // On a failure, say how far the reader got and whether the rest was published at all.
  expect({ read: events.length, published, lastSequence: source.metrics().lastSequence }).toEqual({
    read: 5000,
    published: 'yes',
    lastSequence: 5000,
  })
  expect(events.map((e) => e.n)).toEqual(range(0, 5000))
  const m = source.metrics()
  expect(m.disconnects).toBeGreaterThanOrEqual(1)
  expect(m.reconnects).toBeGreaterThanOrEqual(1)
  expect(m.consumerResets).toBeGreaterThanOrEqual(1)
  expect(logger.lines.some((l) => l.startsWith('warn source-nats: disconnected'))).toBe(true)
  expect(logger.lines.some((l) => l.startsWith('info source-nats: reconnected'))).toBe(true)
  await nc.close()
}, 60_000)

it('a connection lost longer than maxReconnectTimeMs fails with NatsUnavailableError naming the server without its password', async () => {
  const server = await start({ auth: { user: 'alice', pass: 's3cret' } })
  const nc = await server.connect()
  await createStream(nc, 'GONE', ['gone.>'])
  await publishClicks(jetstream(nc), 0, 10, (n) => `gone.${n}`)
  await nc.close()
  const logger = memoryLogger()
  const url = `nats://alice:s3cret@127.0.0.1:${server.port}`
  const source = natsSource<Click>({
    servers: url,
    stream: 'GONE',
    maxReconnectTimeMs: 1500,
    reconnectWaitMs: 100,
    logger,
  })
  const it = source.open(undefined, { signal: new AbortController().signal })[Symbol.asyncIterator]()
  expect((await it.next()).value?.events).toHaveLength(10)
  await server.kill()
  const err = await it.next().then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(NatsUnavailableError)
  const e = err as NatsUnavailableError
  expect(e.code).toBe('nats-unavailable')
  expect(e.message).toContain(`nats://alice:***@127.0.0.1:${server.port}`)
  expect(e.message).toContain('maxReconnectTimeMs')
  expect(`${e.message} ${e.server} ${logger.lines.join('\n')}`).not.toContain('s3cret')
  expect(source.metrics().disconnects).toBe(1)
})

it('a server that never answers fails the first connect after maxReconnectTimeMs, with a typed error', async () => {
  const server = await start()
  await server.kill()
  const source = natsSource<Click>({
    servers: server.url,
    stream: 'X',
    maxReconnectTimeMs: 500,
    reconnectWaitMs: 50,
  })
  const err = await readEvents(source, undefined, 1).catch((e: unknown) => e)
  expect(err).toBeInstanceOf(NatsUnavailableError)
  expect((err as Error).message).toContain(`could not connect to ${server.url}`)
})

it('a missing stream fails with NatsConsumerError saying to create it', async () => {
  const server = await start()
  const source = natsSource<Click>({ servers: server.url, stream: 'NOPE' })
  const err = await readEvents(source, undefined, 1).catch((e: unknown) => e)
  expect(err).toBeInstanceOf(NatsConsumerError)
  expect((err as Error).message).toMatch(/stream 'NOPE' does not exist.*create it/)
})

it('abort ends a reader parked waiting for messages, deletes its consumer and closes the connection it opened', async () => {
  const server = await start({ monitor: true })
  const nc = await server.connect()
  await createStream(nc, 'IDLE', ['idle.>'])
  await publishClicks(jetstream(nc), 0, 5, (n) => `idle.${n}`)
  const source = natsSource<Click>({ servers: server.url, stream: 'IDLE' })
  const ac = new AbortController()
  const it = source.open(undefined, { signal: ac.signal })[Symbol.asyncIterator]()
  expect((await it.next()).value?.events).toHaveLength(5)
  expect(await server.connectionCount()).toBe(2)
  const parked = it.next()
  setTimeout(() => ac.abort(), 50)
  // Nothing else will ever arrive: only the abort can end this wait.
  expect(await parked).toEqual({ done: true, value: undefined })
  // The server sees the client's close a moment later: poll (bounded) until it has.
  for (let i = 0; i < 100 && (await server.connectionCount()) !== 1; i++)
    await new Promise((r) => setTimeout(r, 20))
  expect(await server.connectionCount()).toBe(1)
  const jsm = await jetstreamManager(nc)
  expect(await jsm.consumers.list('IDLE').next()).toHaveLength(0)
  await nc.close()
})

it('the partition sources made together share the one connection they open, closed after the last reader', async () => {
  const server = await start({ monitor: true })
  const nc = await server.connect()
  await createStream(nc, 'PARTS', ['parts.*.*'])
  await publishClicks(jetstream(nc), 0, 30, (n) => `parts.${n % 3}.u${n}`)
  const sources = natsPartitionSources<Click>({
    servers: server.url,
    stream: 'PARTS',
    partitions: [0, 1, 2],
    partitionSubject: 'parts.{partition}.*',
  })
  const controllers = sources.map(() => new AbortController())
  const iterators = sources.map((s, i) =>
    s.open(undefined, { signal: controllers[i]!.signal })[Symbol.asyncIterator](),
  )
  const firsts = await Promise.all(iterators.map((it) => it.next()))
  expect(firsts.map((r) => r.value?.events.length)).toEqual([10, 10, 10])
  expect(await server.connectionCount()).toBe(2)
  controllers[0]!.abort()
  controllers[1]!.abort()
  await Promise.all(iterators.slice(0, 2).map((it) => it.next()))
  expect(await server.connectionCount()).toBe(2)
  controllers[2]!.abort()
  await iterators[2]!.next()
  for (let i = 0; i < 100 && (await server.connectionCount()) !== 1; i++)
    await new Promise((r) => setTimeout(r, 20))
  expect(await server.connectionCount()).toBe(1)
  await nc.close()
})

it('a connection passed by the caller is shared and left open', async () => {
  const server = await start()
  const nc = await server.connect()
  await createStream(nc, 'OWN', ['own.>'])
  await publishClicks(jetstream(nc), 0, 20, (n) => `own.${n}`)
  const a = natsSource<Click>({ connection: nc, stream: 'OWN' })
  const b = natsSource<Click>({ connection: nc, stream: 'OWN', filterSubject: 'own.3' })
  const [ra, rb] = await Promise.all([readEvents(a, undefined, 20), readEvents(b, undefined, 1)])
  expect(ra.events.map((e) => e.n)).toEqual(range(0, 20))
  expect(rb.events.map((e) => e.n)).toEqual([3])
  expect(nc.isClosed()).toBe(false)
  await nc.close()
})

it('resuming behind what the stream still retains is counted and logged as an error, not skipped silently', async () => {
  const server = await start()
  const nc = await server.connect()
  const { StorageType } = await import('@nats-io/jetstream')
  await (await jetstreamManager(nc)).streams.add({
    name: 'SHORT',
    subjects: ['short.>'],
    storage: StorageType.File,
    max_msgs: 100,
  })
  await publishClicks(jetstream(nc), 0, 300, (n) => `short.${n % 2}`)
  const logger = memoryLogger()
  const source = natsSource<Click>({ servers: server.url, stream: 'SHORT', logger })
  const read = await readEvents(source, 10, 100)
  expect(read.events.map((e) => e.n)).toEqual(range(200, 300))
  expect(source.metrics().retentionGaps).toBe(201 - 11)
  expect(logger.lines.some((l) => l.startsWith('error source-nats: the stream no longer holds'))).toBe(true)
  // A fresh start (no position) reads what is there, and loses nothing it had promised to keep.
  const fresh = natsSource<Click>({ servers: server.url, stream: 'SHORT', logger })
  await readEvents(fresh, undefined, 100)
  expect(fresh.metrics().retentionGaps).toBe(0)
  await nc.close()
})

it('a reader closed while it retries creating its consumer stops retrying', async () => {
  const server = await start()
  const nc = await server.connect()
  await createStream(nc, 'RETRY', ['retry.>'])
  await publishClicks(jetstream(nc), 0, 5, (n) => `retry.${n}`)
  const logger = memoryLogger()
  const source = natsSource<Click>({ connection: nc, stream: 'RETRY', reconnectWaitMs: 50, logger })
  const it = source.open(undefined, { signal: new AbortController().signal })[Symbol.asyncIterator]()
  expect((await it.next()).value?.events).toHaveLength(5)
  // The server comes back without JetStream: after the reconnect, consumer creation keeps failing.
  await server.kill()
  const plain = await start({ port: server.port, jetstream: false })
  const retries = () => logger.lines.filter((l) => l.includes('consumer creation failed')).length
  for (let i = 0; i < 500 && retries() < 2; i++) await new Promise((r) => setTimeout(r, 20))
  expect(retries()).toBeGreaterThanOrEqual(2)
  // The caller stops reading without aborting (a `break` out of `for await`).
  await it.return?.()
  const after = retries()
  await new Promise((r) => setTimeout(r, 500))
  expect(retries()).toBe(after)
  await nc.close()
  await plain.stop()
})

it('abort while the server is unreachable ends the reader without waiting for the connect bound', async () => {
  const server = await start()
  await server.kill()
  const source = natsSource<Click>({ servers: server.url, stream: 'X', maxReconnectTimeMs: 600_000 })
  const ac = new AbortController()
  setTimeout(() => ac.abort(), 100)
  const batches = []
  for await (const b of source.open(undefined, { signal: ac.signal })) batches.push(b)
  expect(batches).toEqual([])
})
