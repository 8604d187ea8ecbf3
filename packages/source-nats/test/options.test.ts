import { InvalidDefinitionError } from '@skewless/core'
import { describe, expect, it } from 'vitest'
import { withoutCredentials } from '../src/connection.js'
import { natsPartitionSources, natsSource } from '../src/index.js'
import { defaultNatsLogger } from '../src/logger.js'

describe('server addresses', () => {
  it('moves URL credentials into client options', () => {
    expect(withoutCredentials(['nats://alice:p%40ss@h1:4222', 'nats://h2:4222'])).toEqual({
      servers: ['nats://h1:4222', 'nats://h2:4222'],
      user: 'alice',
      pass: 'p@ss',
    })
    expect(withoutCredentials('nats://t0k@h')).toEqual({ servers: ['nats://h'], token: 't0k' })
  })
})

describe('default logger', () => {
  it("is core's rate-limited logger with info lines: each message at most once per interval, what it held back counted", () => {
    let t = 0
    const lines: string[] = []
    const log = defaultNatsLogger({ intervalMs: 1000, now: () => t, write: (l) => void lines.push(l) })
    log.warn({ a: 1 }, 'disconnected')
    t = 10
    log.warn({ a: 2 }, 'disconnected')
    log.info({}, 'reconnected')
    log.info({}, 'reconnected')
    t = 1500
    log.warn({ a: 3 }, 'disconnected')
    expect(lines).toEqual([
      '[skewless] warn: disconnected {"a":1}',
      '[skewless] info: reconnected {}',
      '[skewless] warn: disconnected {"a":3,"repeated":1}',
    ])
  })
})

describe('options', () => {
  const base = { servers: 'nats://127.0.0.1:4222', stream: 'S' }
  it.each([
    [{ ...base, stream: 'a.b' }, /stream must be/],
    [{ stream: 'S' }, /either `connection` or `servers`/],
    [{ ...base, batchSize: 0 }, /batchSize/],
    [{ ...base, batchSize: 100, maxBufferedMessages: 50 }, /maxBufferedMessages/],
    [{ ...base, maxWaitMs: -1 }, /maxWaitMs/],
    [{ ...base, filterSubject: '' }, /subject filter/],
  ])('refuses %j', (options, message) => {
    expect(() => natsSource(options)).toThrow(InvalidDefinitionError)
    expect(() => natsSource(options)).toThrow(message)
  })

  it('refuses bad partitions and templates', () => {
    const p = { ...base, partitionSubject: 'c.{partition}.>' }
    expect(() => natsPartitionSources({ ...p, partitions: [] })).toThrow(/at least one/)
    expect(() => natsPartitionSources({ ...p, partitions: [1, 1] })).toThrow(/distinct/)
    expect(() => natsPartitionSources({ ...base, partitions: [0], partitionSubject: 'c.>' })).toThrow(
      /\{partition\}/,
    )
  })

  it('refuses a position that is not a stream sequence, when read', async () => {
    const source = natsSource({ ...base })
    const it = source.open('abc', { signal: new AbortController().signal })[Symbol.asyncIterator]()
    await expect(it.next()).rejects.toThrow(/not a JetStream stream sequence/)
  })
})
