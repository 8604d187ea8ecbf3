import { describe, expect, it } from 'vitest'
import { checkStorableTime, isStorableTime } from '../src/adapter.js'
import {
  aggregator,
  collectingSink,
  count,
  createPipeline,
  type DeadLetter,
  defineFeatures,
  distinctCount,
  END_STORABLE_TIME,
  type FeatureUpdate,
  hopping,
  InvalidDefinitionError,
  InvalidEventError,
  type LateEvent,
  MIN_STORABLE_TIME,
  manualClock,
  max,
  mean,
  sum,
  tumbling,
  unbounded,
} from '../src/index.js'
import { createOperator } from '../src/internal.js'

interface Ev {
  user: string
  ts: unknown
  amount?: unknown
}

const M = 60_000
const NOW = Date.UTC(2026, 11, 7)
const clicks = () =>
  defineFeatures<Ev>({
    entity: (e) => e.user,
    eventTime: (e) => e.ts,
    features: { clicks_5m: { window: hopping('5m', '1m'), aggregate: count() } },
  })

async function run(events: unknown[], opts: { failFast?: boolean; maxFutureTime?: number | string } = {}) {
  const sink = collectingSink<FeatureUpdate>()
  const dead = collectingSink<DeadLetter<unknown>>()
  const late = collectingSink<LateEvent<unknown>>()
  const p = createPipeline<Ev>({
    source: events as Ev[],
    batchSize: 1,
    features: clicks(),
    clock: manualClock(NOW),
    ...(opts.maxFutureTime === undefined ? {} : { watermark: { maxFutureTime: opts.maxFutureTime } }),
    ...(opts.failFast === undefined ? {} : { failFast: opts.failFast }),
    sink,
    deadLetters: dead,
    lateEvents: late,
  })
  const r = await p.run()
  return { r, updates: sink.items, dead: dead.items, late: late.items }
}

describe('one time rule: whole ms in the UTC years 0000-9999', () => {
  it('isStorableTime takes exactly the instants the offline log stores', () => {
    expect(isStorableTime(0)).toBe(true)
    expect(isStorableTime(MIN_STORABLE_TIME)).toBe(true)
    expect(isStorableTime(END_STORABLE_TIME - 1)).toBe(true)
    for (const bad of [1.5, END_STORABLE_TIME, MIN_STORABLE_TIME - 1, 1e300, -1e300, Number.NaN, '5', null]) {
      expect(isStorableTime(bad)).toBe(false)
      expect(checkStorableTime(bad)).toBeTypeOf('string')
    }
    expect(checkStorableTime(1.5)).toMatch(/1.5 is not a whole number of ms: round it/)
    expect(checkStorableTime(1e300)).toMatch(/outside the UTC years 0000-9999.*unit/)
  })

  it('the pipeline dead-letters times the log cannot store, with what to change, and keeps the good ones', async () => {
    const { r, updates, dead } = await run(
      [
        { user: 'a', ts: NOW - 3 * M },
        { user: 'a', ts: NOW - 2 * M + 0.5 },
        { user: 'a', ts: END_STORABLE_TIME },
        { user: 'a', ts: '+010000-01-01T00:00:00Z' },
        { user: 'a', ts: 1e300 },
        { user: 'a', ts: MIN_STORABLE_TIME - 1 },
        { user: 'a', ts: 'not a time' },
        { user: 'a', ts: NOW - M },
      ],
      { maxFutureTime: Number.POSITIVE_INFINITY },
    )
    expect(dead.map((d) => d.code)).toEqual(Array(6).fill('invalid-time'))
    expect(dead[0]?.message).toMatch(/not a whole number of ms: round it/)
    expect(dead[2]?.message).toMatch(/outside the UTC years 0000-9999.*parsed from "\+010000/)
    expect(dead[5]?.message).toMatch(/not a finite instant: "not a time"; give ms since the epoch/)
    expect(r.metrics.deadLetters).toBe(6)
    expect(updates.filter((u) => u.feature === 'clicks_5m').map((u) => u.value)).toContain(2)
    for (const u of updates) expect(isStorableTime(u.eventTime)).toBe(true)
  })
})

describe('maxFutureTime', () => {
  it('one event dated 2100 is dead-lettered future-time and does not make later good events late', async () => {
    const good = (i: number) => ({ user: `u${i % 3}`, ts: NOW - 10 * M + i * 1000 })
    const events: unknown[] = [good(0), good(1), { user: 'u1', ts: Date.UTC(2100, 0, 1) }]
    for (let i = 2; i < 50; i++) events.push(good(i))
    const { r, dead, late } = await run(events)
    expect(late).toEqual([])
    expect(dead.map((d) => d.code)).toEqual(['future-time'])
    expect(dead[0]?.message).toMatch(/ahead of the clock.*maxFutureTime/)
    expect(r.metrics.deadLetters).toBe(1)
    expect(r.metrics.lateEvents).toBe(0)
    expect(r.metrics.eventsApplied).toBe(50)
    expect(r.metrics.watermark).toBe(NOW - 10 * M + 49 * 1000)
  })

  it("defaults to '1d', and Infinity turns the bound off", async () => {
    const soon = { user: 'a', ts: NOW + 23 * 60 * M }
    const later = { user: 'a', ts: NOW + 25 * 60 * M }
    expect((await run([soon, later])).dead.map((d) => d.code)).toEqual(['future-time'])
    expect((await run([soon, later], { maxFutureTime: Number.POSITIVE_INFINITY })).dead).toEqual([])
    expect((await run([soon, later], { maxFutureTime: '1h' })).dead).toHaveLength(2)
    expect(() => createOperator(clicks(), { watermark: { maxFutureTime: -1 } })).toThrow(
      /maxFutureTime must be a finite number of ms >= 0/,
    )
  })
})

describe('events the extractors cannot read', () => {
  it('a null or undefined event is a dead letter keeping the extractor error, and the run goes on', async () => {
    const { r, dead, updates } = await run([
      { user: 'a', ts: NOW },
      null,
      undefined,
      { user: 'a', ts: NOW + 1 },
    ])
    expect(r.ended).toBe('completed')
    expect(dead.map((d) => d.code)).toEqual(['invalid-event', 'invalid-event'])
    expect(dead[0]?.message).toMatch(/eventTime extractor threw on null/)
    expect(dead[0]?.cause).toBeInstanceOf(TypeError)
    expect(dead[0]?.event).toBe(null)
    expect(updates.at(-1)?.value).toBe(2)
  })

  it('failFast throws InvalidEventError with the extractor error as cause', async () => {
    const err = await run([null], { failFast: true }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InvalidEventError)
    expect((err as InvalidEventError).reason).toBe('invalid-event')
    expect((err as InvalidEventError).cause).toBeInstanceOf(TypeError)
  })

  it('a throwing value extractor dead-letters that feature only', () => {
    const op = createOperator(
      defineFeatures<{ k: string; t: number; v?: { x: number } }>({
        entity: (e) => e.k,
        eventTime: (e) => e.t,
        features: {
          n: { window: tumbling('1m'), aggregate: count() },
          s: { window: tumbling('1m'), aggregate: sum(), value: (e) => (e.v as { x: number }).x },
        },
      }),
      { watermark: { maxFutureTime: Number.POSITIVE_INFINITY } },
    )
    const out = op.process([{ k: 'a', t: 1 }])
    expect(out.deadLetters.map((d) => [d.code, d.feature])).toEqual([['invalid-value', 's']])
    expect(out.deadLetters[0]?.cause).toBeInstanceOf(TypeError)
    expect(out.updates.map((u) => [u.feature, u.value])).toEqual([
      ['n', 1],
      ['s', 0],
    ])
  })
})

describe('feature names and value types at definition time', () => {
  const def = (name: string) =>
    defineFeatures<Ev>({
      entity: (e) => e.user,
      eventTime: (e) => e.ts,
      features: { [name]: { window: tumbling('1m'), aggregate: count() } },
    })

  it('refuses names that are members of Object.prototype', () => {
    for (const name of ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty']) {
      expect(() => def(name)).toThrow(InvalidDefinitionError)
      expect(() => def(name)).toThrow(new RegExp(`'${name}' is reserved.*rename`))
    }
    expect(def('proto').features[0]?.name).toBe('proto')
  })

  it("an aggregate name such as 'constructor' is an unknown aggregator, not Object", () => {
    expect(() =>
      defineFeatures<Ev>({
        entity: (e) => e.user,
        eventTime: (e) => e.ts,
        features: { x: { window: tumbling('1m'), aggregate: 'constructor', value: (e) => e.amount } },
      }),
    ).toThrow(/unknown aggregator 'constructor'/)
  })

  it('refuses a valueType that conflicts with what the aggregate gives', () => {
    const typed = (
      aggregate: Parameters<typeof defineFeatures>[0]['features'][string]['aggregate'],
      valueType: string,
    ) =>
      defineFeatures<Ev>({
        entity: (e) => e.user,
        eventTime: (e) => e.ts,
        features: {
          x: { window: tumbling('1m'), aggregate, value: (e) => e.amount, valueType: valueType as 'double' },
        },
      })
    expect(() => typed(count(), 'double')).toThrow(
      /'count' always gives int64 values, so valueType 'double' conflicts/,
    )
    expect(() => typed(mean(), 'int64')).toThrow(/'mean' always gives double/)
    expect(() => typed(distinctCount(), 'string')).toThrow(/'distinct_count' always gives int64/)
    expect(() => typed('sum', 'string')).toThrow(/'sum' gives numbers, so valueType 'string' conflicts/)
    expect(() => typed(max(), 'bool')).toThrow(InvalidDefinitionError)
    const custom = aggregator({
      kind: 'concat',
      valueType: 'string',
      init: () => '',
      add: (a: string, v: unknown) => a + String(v),
      merge: (a: string, b: string) => a + b,
      result: (a: string) => a,
    })
    expect(() => typed(custom, 'int64')).toThrow(
      /declares valueType 'string', so valueType 'int64' conflicts/,
    )
    expect(typed(count(), 'int64').features[0]?.valueType).toBe('int64')
    expect(typed('min', 'int64').features[0]?.aggregator.valueType).toBe('int64')
  })

  it('an int64 sum, min or max dead-letters a value that is not a safe integer, counted, in every window kind', () => {
    for (const window of [hopping('2m', '1m'), unbounded()]) {
      const op = createOperator(
        defineFeatures<{ k: string; t: number; v: number }>({
          entity: (e) => e.k,
          eventTime: (e) => e.t,
          features: {
            total: { window, aggregate: sum(), value: (e) => e.v, valueType: 'int64' },
            top: { window, aggregate: 'max', value: (e) => e.v, valueType: 'int64' },
          },
        }),
        { watermark: { maxFutureTime: Number.POSITIVE_INFINITY } },
      )
      const out = op.process([
        { k: 'a', t: 1, v: 2 },
        { k: 'a', t: 2, v: 1.5 },
        { k: 'a', t: 3, v: 2 ** 60 },
      ])
      expect(out.deadLetters.map((d) => [d.code, d.feature])).toEqual([
        ['invalid-value', 'total'],
        ['invalid-value', 'top'],
        ['invalid-value', 'total'],
        ['invalid-value', 'top'],
      ])
      expect(out.deadLetters[0]?.message).toMatch(/int64.*safe integer, got 1.5; round it/)
      expect(op.metrics.deadLetters).toBe(4)
      expect(out.updates.map((u) => [u.feature, u.value])).toEqual([
        ['total', 2],
        ['top', 2],
      ])
    }
  })
})
