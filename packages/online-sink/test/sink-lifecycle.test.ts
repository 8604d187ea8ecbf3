import {
  ClosedError,
  collectingSink,
  type FeatureWrite,
  InvalidDefinitionError,
  tumbling,
} from '@skewless/core'
import { describe, expect, it } from 'vitest'
import {
  DownstreamError,
  memoryStore,
  type OnlineStore,
  onlineSink,
  StoreUnavailableError,
} from '../src/index.js'
import { faultyStore, tick } from './faulty-store.js'
import { FEATURES, up } from './helpers.js'

describe('flush and close', () => {
  it('flush() waits for buffered and in-flight writes and flushes downstream', async () => {
    const store = faultyStore(memoryStore())
    const down = collectingSink<FeatureWrite>()
    let flushed = 0
    const sink = onlineSink({
      store,
      features: FEATURES,
      downstream: {
        ...down,
        write: (b) => down.write(b),
        flush: async () => void flushed++,
        close: () => down.close(),
      },
      lingerMs: 50,
    })
    store.delayNext(1, 30)
    sink.write([up('a', 'score', 1, 1, 1), up('b', 'score', 1, 1, 1)])
    await sink.flush()
    expect(down.items.length).toBe(2)
    expect(flushed).toBe(1)
    expect(sink.metrics().buffered).toBe(0)
    await sink.close()
  })

  it('close() drains, closes downstream and dead letters but not the store; later writes reject', async () => {
    let storeClosed = false
    const inner = memoryStore()
    const store: OnlineStore = {
      ...inner,
      apply: inner.apply,
      read: inner.read,
      close: async () => {
        storeClosed = true
      },
    }
    const down = collectingSink<FeatureWrite>()
    const dead = collectingSink<never>()
    const sink = onlineSink({
      store,
      features: FEATURES,
      downstream: down,
      deadLetters: dead,
      lingerMs: 10_000,
    })
    sink.write([up('a', 'score', 1, 1, 1)])
    const c1 = sink.close()
    expect(sink.close()).toBe(c1)
    await c1
    expect(down.items.length).toBe(1)
    expect(down.closed).toBe(true)
    expect(dead.closed).toBe(true)
    expect(storeClosed).toBe(false)
    await expect(sink.write([up('a', 'score', 2, 2, 2)]) as Promise<void>).rejects.toBeInstanceOf(ClosedError)
  })

  it('a failing downstream stops the sink with DownstreamError instead of losing log records', async () => {
    let closed = false
    const store = faultyStore(memoryStore())
    const sink = onlineSink({
      store,
      features: FEATURES,
      lingerMs: 0,
      downstream: {
        write: () => Promise.reject(new Error('disk full')),
        flush: async () => {},
        close: async () => {
          closed = true
        },
      },
    })
    sink.write([up('a', 'score', 1, 1, 1)])
    const err = await sink.flush().catch((e) => e)
    expect(err).toBeInstanceOf(DownstreamError)
    expect(err.code).toBe('downstream-failed')
    expect((err.cause as Error).message).toBe('disk full')
    await expect(sink.write([up('b', 'score', 1, 1, 1)]) as Promise<void>).rejects.toBeInstanceOf(
      DownstreamError,
    )
    await tick(5)
    expect(store.calls.length).toBe(1)
    await expect(sink.close()).rejects.toBeInstanceOf(DownstreamError)
    expect(closed).toBe(true)
  })

  it.each(['downstream', 'deadLetters'] as const)(
    'a %s whose own flush() fails stops the sink with DownstreamError: what it took may not be durable',
    async (output) => {
      const failing = {
        write: () => {},
        flush: () => Promise.reject(new Error('fsync failed')),
        close: async () => {},
      }
      const sink = onlineSink({ store: memoryStore(), features: FEATURES, lingerMs: 0, [output]: failing })
      sink.write([up('a', 'score', 1, 1, 1)])
      const err = await sink.flush().catch((e) => e)
      expect(err).toBeInstanceOf(DownstreamError)
      expect((err.cause as Error).message).toBe('fsync failed')
      await expect(sink.write([up('b', 'score', 1, 1, 2)]) as Promise<void>).rejects.toBeInstanceOf(
        DownstreamError,
      )
      await expect(sink.close()).rejects.toBeInstanceOf(DownstreamError)
    },
  )

  it('an output whose close() fails makes close() reject with DownstreamError', async () => {
    const sink = onlineSink({
      store: memoryStore(),
      features: FEATURES,
      downstream: { write: () => {}, flush: async () => {}, close: () => Promise.reject(new Error('EIO')) },
    })
    sink.write([up('a', 'score', 1, 1, 1)])
    const err = await sink.close().catch((e) => e)
    expect(err).toBeInstanceOf(DownstreamError)
    expect((err.cause as Error).message).toBe('EIO')
  })

  it('a failing downstream also stops the retries of batches the store keeps refusing', async () => {
    // Before: the batch at a dead store kept retrying (retries: Infinity) after the sink had failed,
    // even after close() had rejected: a timer and store calls forever, the process never exits.
    const inner = memoryStore()
    let calls = 0
    const store: OnlineStore = {
      ...inner,
      async apply(writes, features) {
        calls++
        if (writes.some((w) => w.entity === 'b')) throw new StoreUnavailableError('down', { store: 't' })
        return inner.apply(writes, features)
      },
    }
    const sink = onlineSink({
      store,
      features: FEATURES,
      downstream: {
        write: () => Promise.reject(new Error('disk full')),
        flush: async () => {},
        close: async () => {},
      },
      maxBatchSize: 1,
      lingerMs: 0,
      retry: { minDelayMs: 1, maxDelayMs: 2 },
    })
    sink.write([up('a', 'score', 1, 1, 1), up('b', 'score', 1, 1, 1)])
    await expect(sink.close()).rejects.toBeInstanceOf(DownstreamError)
    await tick(10)
    const after = calls
    await tick(30)
    expect(calls).toBe(after)
    // Like the writes still pending, it is left to the replay that DownstreamError asks for.
    expect(sink.metrics()).toMatchObject({ inFlightBatches: 0, buffered: 0, deadLetters: 0 })
  })

  it('a dead-letter output that fails on a write() stops the sink like one that fails on a batch', async () => {
    // Before: the failure reached only that write() call; the sink kept writing to the store and
    // downstream, with dead letters no longer recorded.
    const store = faultyStore(memoryStore())
    const down = collectingSink<FeatureWrite>()
    const sink = onlineSink({
      store,
      features: FEATURES,
      lingerMs: 0,
      downstream: down,
      deadLetters: {
        write: () => Promise.reject(new Error('disk full')),
        flush: async () => {},
        close: async () => {},
      },
    })
    await expect(sink.write([up('a', 'nope', 1, 1, 1)]) as Promise<void>).rejects.toBeInstanceOf(
      DownstreamError,
    )
    await expect(sink.write([up('b', 'score', 1, 1, 1)]) as Promise<void>).rejects.toBeInstanceOf(
      DownstreamError,
    )
    await tick(5)
    expect(store.calls).toEqual([])
    expect(down.items).toEqual([])
    await expect(sink.close()).rejects.toBeInstanceOf(DownstreamError)
  })

  it('a batch waiting for its store call when an output fails is not sent', async () => {
    // write() dispatches the valid update at once (lingerMs: 0); its store call starts a microtask
    // later, after the dead-letter output rejected the unknown feature's dead letter.
    const store = faultyStore(memoryStore())
    const sink = onlineSink({
      store,
      features: FEATURES,
      lingerMs: 0,
      deadLetters: {
        write: () => {
          throw new Error('disk full')
        },
        flush: async () => {},
        close: async () => {},
      },
    })
    const r = sink.write([up('a', 'nope', 1, 1, 1), up('b', 'score', 1, 1, 1)])
    await expect(r as Promise<void>).rejects.toBeInstanceOf(DownstreamError)
    await tick(5)
    expect(store.calls).toEqual([])
    expect(sink.metrics()).toMatchObject({ inFlightBatches: 0, buffered: 0 })
    await expect(sink.close()).rejects.toBeInstanceOf(DownstreamError)
  })
})

describe('configuration', () => {
  const noCas: OnlineStore = {
    ...memoryStore(),
    capabilities: {
      cas: false,
      additive: false,
      ttl: false,
      cluster: false,
      durable: false,
      changelog: false,
    },
  }

  it('refuses strategies the store cannot do, and bad features or options, with InvalidDefinitionError', () => {
    expect(() => onlineSink({ store: noCas, features: [{ name: 'x', valueType: 'double' }] })).toThrow(
      /compare-and-set/,
    )
    expect(() =>
      onlineSink({
        store: noCas,
        features: [{ name: 'x', valueType: 'double', strategy: 'additive', window: tumbling(1000) }],
      }),
    ).toThrow(InvalidDefinitionError)
    const store = memoryStore()
    expect(() =>
      onlineSink({ store, features: [{ name: 'x', valueType: 'double', strategy: 'additive' }] }),
    ).toThrow(/window/)
    expect(() => onlineSink({ store, features: [] })).toThrow(InvalidDefinitionError)
    expect(() =>
      onlineSink({
        store,
        features: [
          { name: 'x', valueType: 'double' },
          { name: 'x', valueType: 'double' },
        ],
      }),
    ).toThrow(/twice/)
    expect(() => onlineSink({ store, features: FEATURES, maxBatchSize: 0 })).toThrow(/maxBatchSize/)
    expect(() => onlineSink({ store, features: FEATURES, maxBatchSize: 0.5 })).toThrow(/whole number/)
    expect(() => onlineSink({ store, features: FEATURES, maxInFlightBatches: 0 })).toThrow(
      /maxInFlightBatches/,
    )
    expect(() => onlineSink({ store, features: FEATURES, retry: { factor: 0.5 } })).toThrow(/retry.factor/)
    expect(() =>
      onlineSink({ store, features: FEATURES, retry: { minDelayMs: 50, maxDelayMs: 10 } }),
    ).toThrow(/retry.maxDelayMs/)
    expect(() =>
      onlineSink({ store, features: FEATURES, retry: { retries: Infinity }, timeoutMs: 0 }),
    ).not.toThrow()
    expect(() => onlineSink({ store, features: [{ name: 'x', valueType: 'double', ttlMs: -1 }] })).toThrow(
      /ttlMs/,
    )
    expect(() =>
      onlineSink({ store: noCas, features: [{ name: 'x', valueType: 'double', strategy: 'upsert' }] }),
    ).not.toThrow()
  })
})
