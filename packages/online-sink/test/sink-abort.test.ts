// A shutdown is boundable: flush({ signal }) and close({ signal }) return while the store is down.
import { AbortedError, collectingSink, type FeatureUpdate, type FeatureWrite } from '@skewless/core'
import { describe, expect, it } from 'vitest'
import type { ApplyResult } from '../src/adapter.js'
import {
  memoryStore,
  type OnlineDeadLetter,
  type OnlineFeatureConfig,
  type OnlineStore,
  onlineSink,
  SinkAbortedError,
  StoreUnavailableError,
} from '../src/index.js'
import { tick } from './faulty-store.js'
import { FEATURES, up } from './helpers.js'

const T = Date.UTC(2026, 0, 1)

/** `p`, or a rejection naming what did not happen within `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)
  })
  return Promise.race([p, late]).finally(() => clearTimeout(timer))
}

/** A memory store that can go down: every call then fails transiently (a dead Redis). */
function flakyStore() {
  const inner = memoryStore()
  const state = { down: false, calls: 0 }
  const store: OnlineStore = {
    ...inner,
    apply: async (writes, features): Promise<ApplyResult> => {
      state.calls++
      if (state.down) throw new StoreUnavailableError('connection refused', { store: 'test' })
      return inner.apply(writes, features)
    },
  }
  return { store, inner, state }
}

const key = (u: FeatureUpdate) => `${u.entity}@${u.value}`

describe('close({ signal }) with the store down and retries: Infinity', () => {
  it('returns, dead-lettering exactly the writes the store has not acknowledged, and closes the outputs', async () => {
    const { store, state } = flakyStore()
    const down = collectingSink<FeatureWrite>()
    const dead = collectingSink<OnlineDeadLetter>()
    const sink = onlineSink({
      store,
      features: FEATURES,
      downstream: down,
      deadLetters: dead,
      maxBatchSize: 2,
      maxInFlightBatches: 1,
      lingerMs: 0,
    })
    sink.write([up('z', 'score', 1, T, 1)])
    await sink.flush()
    state.down = true
    sink.write([
      up('a', 'score', 1, T, 1),
      up('b', 'score', 1, T, 1),
      up('c', 'score', 1, T, 1),
      up('d', 'label', 'x', T, 1),
      up('e', 'clicks_5m', 1, T, 1, 0),
    ])
    await tick(5) // [a, b] is at the store, retried; c, d, e are queued
    sink.write([up('a', 'score', 2, T + 1, 1)]) // pending behind the busy a@1
    sink.write([up('c', 'score', 2, T + 1, 1)]) // replaces the queued c@1 (coalesced, never written)
    const callsBefore = state.calls
    await within(
      sink.close({ signal: AbortSignal.timeout(100) }),
      2000,
      'close({ signal }) with the store down',
    )
    expect(state.calls).toBeGreaterThan(callsBefore) // it was still retrying
    expect(dead.items.map((d) => key(d.update)).sort()).toEqual(['a@1', 'a@2', 'b@1', 'c@2', 'd@x', 'e@1'])
    expect(dead.items.every((d) => d.code === 'aborted')).toBe(true)
    const reasonOf = (k: string) => dead.items.find((d) => key(d.update) === k)?.message
    expect(reasonOf('a@1')).toMatch(/at store .* may or may not have landed/)
    expect(reasonOf('c@2')).toMatch(/before it was sent/)
    expect(down.items.map(key)).toEqual(['z@1'])
    expect(down.closed && dead.closed).toBe(true)
    expect(sink.metrics()).toMatchObject({ deadLetters: 6, coalesced: 1, buffered: 0, inFlightBatches: 0 })
    const calls = state.calls
    await tick(50)
    expect(state.calls).toBe(calls) // no retry after close
  })

  it('returns even while a store call never answers (timeoutMs: 0); its late answer is ignored', async () => {
    const inner = memoryStore()
    let answer: (() => void) | undefined
    const store: OnlineStore = {
      ...inner,
      apply: (writes, features) =>
        new Promise<ApplyResult>((resolve) => {
          answer = () => resolve(inner.apply(writes, features))
        }),
    }
    const down = collectingSink<FeatureWrite>()
    const dead = collectingSink<OnlineDeadLetter>()
    const sink = onlineSink({ store, features: FEATURES, downstream: down, deadLetters: dead, timeoutMs: 0 })
    sink.write([up('a', 'score', 1, T, 1), up('b', 'score', 1, T, 1)])
    const controller = new AbortController()
    const closing = sink.close({ signal: controller.signal })
    await tick(5)
    expect(answer).toBeDefined()
    controller.abort(new Error('shutdown deadline'))
    await within(closing, 1000, 'close() after its signal aborted')
    expect(dead.items.map((d) => key(d.update))).toEqual(['a@1', 'b@1'])
    expect(dead.items[0]?.message).toContain('shutdown deadline')
    answer?.()
    await tick(5)
    expect(down.items).toEqual([])
    expect(sink.metrics()).toMatchObject({ applied: 0, deadLetters: 2 })
  })

  it('without a deadLetters output, rejects with SinkAbortedError carrying the number of writes lost', async () => {
    const { store, state } = flakyStore()
    state.down = true
    const sink = onlineSink({ store, features: FEATURES, lingerMs: 0 })
    sink.write([up('a', 'score', 1, T, 1), up('b', 'score', 1, T, 1), up('c', 'label', 'x', T, 1)])
    const err = await within(
      sink.close({ signal: AbortSignal.timeout(50) }).then(
        () => undefined,
        (e: unknown) => e,
      ),
      2000,
      'close({ signal }) without dead-letter output',
    )
    expect(err).toBeInstanceOf(SinkAbortedError)
    expect(err).toBeInstanceOf(AbortedError)
    expect(err).toMatchObject({ code: 'aborted', unacknowledged: 3 })
    expect((err as Error).message).toMatch(/3 writes .*deadLetters/)
    expect(sink.metrics().deadLetters).toBe(3)
  })

  it('a later close({ signal }) bounds an earlier close(); a waiting flush() resolves with its writes dead-lettered', async () => {
    const { store, state } = flakyStore()
    state.down = true
    const dead = collectingSink<OnlineDeadLetter>()
    const sink = onlineSink({ store, features: FEATURES, deadLetters: dead })
    sink.write([up('a', 'score', 1, T, 1)])
    const flushed = sink.flush()
    const first = sink.close()
    const second = sink.close({ signal: AbortSignal.timeout(30) })
    expect(second).toBe(first)
    await within(Promise.all([flushed, first]), 2000, 'close() bounded by a later signal')
    expect(dead.items.map((d) => [key(d.update), d.code])).toEqual([['a@1', 'aborted']])
  })

  it('with an already aborted signal, sends nothing more and dead-letters what is buffered', async () => {
    const { store, state } = flakyStore()
    const dead = collectingSink<OnlineDeadLetter>()
    const sink = onlineSink({ store, features: FEATURES, deadLetters: dead, lingerMs: 10_000 })
    sink.write([up('a', 'score', 1, T, 1)])
    await sink.close({ signal: AbortSignal.abort() })
    expect(state.calls).toBe(0)
    expect(dead.items.map((d) => key(d.update))).toEqual(['a@1'])
  })

  it('never calls the store after the abort for a batch handed to the store-call limiter just before', async () => {
    // A dispatched batch starts its store call a microtask later (p-limit). Before, an abort in
    // between dead-lettered it as "at the store", then the call went out anyway, after close().
    const { store, state, inner } = flakyStore()
    const dead = collectingSink<OnlineDeadLetter>()
    const sink = onlineSink({ store, features: FEATURES, deadLetters: dead, lingerMs: 0 })
    sink.write([up('a', 'score', 1, T, 1)])
    await sink.close({ signal: AbortSignal.abort() })
    await tick(5)
    expect(state.calls).toBe(0)
    expect(dead.items.map((d) => [key(d.update), d.code])).toEqual([['a@1', 'aborted']])
    expect((await inner.read(['a'], [FEATURES[0] as OnlineFeatureConfig]))[0]?.[0]).toEqual({
      kind: 'missing',
    })
  })
})

describe('flush({ signal })', () => {
  it('rejects with SinkAbortedError saying what is unacknowledged; the writes stay buffered and land later', async () => {
    const { store, inner, state } = flakyStore()
    state.down = true
    const down = collectingSink<FeatureWrite>()
    const sink = onlineSink({
      store,
      features: FEATURES,
      downstream: down,
      retry: { minDelayMs: 1, maxDelayMs: 5 },
    })
    sink.write([up('a', 'score', 1, T, 1), up('b', 'score', 1, T, 1), up('c', 'label', 'x', T, 1)])
    const err = await within(
      sink.flush({ signal: AbortSignal.timeout(50) }).then(
        () => undefined,
        (e: unknown) => e,
      ),
      2000,
      'flush({ signal }) with the store down',
    )
    expect(err).toBeInstanceOf(SinkAbortedError)
    expect(err).toMatchObject({ code: 'aborted', unacknowledged: 3 })
    expect((err as Error).message).toMatch(/3 writes .*not acknowledged/)
    await expect(sink.flush({ signal: AbortSignal.abort() })).rejects.toBeInstanceOf(SinkAbortedError)
    state.down = false
    await within(sink.flush(), 2000, 'flush() once the store is back')
    expect(down.items.map(key).sort()).toEqual(['a@1', 'b@1', 'c@x'])
    const rows = await inner.read(['a', 'b'], [FEATURES[0] as (typeof FEATURES)[0]])
    expect(rows.map((r) => r[0]?.kind)).toEqual(['value', 'value'])
    await sink.close()
  })
})
