// Every numeric option is checked at construction: a typo must not become a silent misbehaviour.
import { InvalidDefinitionError } from '@skewless/core'
import { describe, expect, it } from 'vitest'
import {
  memoryStore,
  type OnlineFeatureConfig,
  type OnlineSinkOptions,
  onlineReader,
  onlineSink,
} from '../src/index.js'
import { FEATURES } from './helpers.js'

const store = memoryStore()
const sink = (o: Partial<OnlineSinkOptions>) => () => onlineSink({ store, features: FEATURES, ...o })
const feature = (f: Partial<OnlineFeatureConfig>) => () =>
  onlineSink({ store, features: [{ name: 'x', valueType: 'int64', ...f }] })
const tiles = (window: unknown) =>
  feature({ strategy: 'additive', window: window as OnlineFeatureConfig['window'] })
const TOO_LONG_FOR_A_TIMER = 2 ** 31 // setTimeout fires after 1 ms instead

describe('numeric options', () => {
  // [what, construct, the error message it must match, or null when it is accepted]
  const cases: [string, () => unknown, RegExp | null][] = [
    ['maxBatchSize 0', sink({ maxBatchSize: 0 }), /maxBatchSize must be a whole number >= 1, got 0/],
    ['maxBatchSize 1.5', sink({ maxBatchSize: 1.5 }), /maxBatchSize must be a whole number/],
    ['maxBatchSize Infinity', sink({ maxBatchSize: Infinity }), /maxBatchSize must be a finite whole number/],
    ['maxBatchSize NaN', sink({ maxBatchSize: Number.NaN }), /maxBatchSize .* got NaN/],
    [
      'maxBatchSize "10"',
      sink({ maxBatchSize: '10' as unknown as number }),
      /maxBatchSize .* got string "10"/,
    ],
    ['maxBatchSize 1', sink({ maxBatchSize: 1 }), null],
    ['lingerMs -1', sink({ lingerMs: -1 }), /lingerMs must be a number of ms >= 0/],
    ['lingerMs NaN', sink({ lingerMs: Number.NaN }), /lingerMs/],
    ['lingerMs Infinity', sink({ lingerMs: Infinity }), /lingerMs .*at most 2147483647/],
    ['lingerMs 2^31', sink({ lingerMs: TOO_LONG_FOR_A_TIMER }), /lingerMs .*at most 2147483647/],
    ['lingerMs 0', sink({ lingerMs: 0 }), null],
    ['lingerMs 0.5', sink({ lingerMs: 0.5 }), null],
    [
      'maxInFlightBatches 0',
      sink({ maxInFlightBatches: 0 }),
      /maxInFlightBatches must be a whole number >= 1/,
    ],
    [
      'maxInFlightBatches Infinity',
      sink({ maxInFlightBatches: Infinity }),
      /maxInFlightBatches must be a finite/,
    ],
    [
      'maxBufferedUpdates 0',
      sink({ maxBufferedUpdates: 0 }),
      /maxBufferedUpdates must be a whole number >= 1/,
    ],
    ['maxBufferedUpdates 2.5', sink({ maxBufferedUpdates: 2.5 }), /maxBufferedUpdates/],
    [
      'maxBufferedUpdates Infinity',
      sink({ maxBufferedUpdates: Infinity }),
      /maxBufferedUpdates must be a finite .*memory/,
    ],
    ['timeoutMs -5', sink({ timeoutMs: -5 }), /timeoutMs must be a number of ms >= 0/],
    ['timeoutMs Infinity', sink({ timeoutMs: Infinity }), /timeoutMs .*use 0 for no timeout/],
    ['timeoutMs 2^31', sink({ timeoutMs: TOO_LONG_FOR_A_TIMER }), /timeoutMs .*at most 2147483647/],
    ['timeoutMs 0 (no timeout)', sink({ timeoutMs: 0 }), null],
    ['retry.retries -1', sink({ retry: { retries: -1 } }), /retry.retries must be a whole number >= 0/],
    ['retry.retries 1.5', sink({ retry: { retries: 1.5 } }), /retry.retries/],
    ['retry.retries NaN', sink({ retry: { retries: Number.NaN } }), /retry.retries/],
    ['retry.retries Infinity (retry forever)', sink({ retry: { retries: Infinity } }), null],
    ['retry.retries 0', sink({ retry: { retries: 0 } }), null],
    [
      'retry.minDelayMs -1',
      sink({ retry: { minDelayMs: -1 } }),
      /retry.minDelayMs must be a number of ms >= 0/,
    ],
    ['retry.minDelayMs Infinity', sink({ retry: { minDelayMs: Infinity } }), /retry.minDelayMs/],
    [
      'retry.maxDelayMs Infinity',
      sink({ retry: { maxDelayMs: Infinity } }),
      /retry.maxDelayMs .*at most 2147483647/,
    ],
    [
      'retry.maxDelayMs < minDelayMs',
      sink({ retry: { minDelayMs: 50, maxDelayMs: 10 } }),
      /retry.maxDelayMs must be .*>= 50/,
    ],
    ['retry.factor 0.5', sink({ retry: { factor: 0.5 } }), /retry.factor must be a number >= 1/],
    ['retry.factor Infinity', sink({ retry: { factor: Infinity } }), /retry.factor must be a finite/],
    ['ttlMs -1', feature({ ttlMs: -1 }), /ttlMs -1; use a number of ms > 0/],
    ['ttlMs NaN', feature({ ttlMs: Number.NaN }), /ttlMs NaN/],
    ['ttlMs Infinity (never expires)', feature({ ttlMs: Infinity }), null],
    ['window size 0', tiles({ kind: 'tumbling', sizeMs: 0, hopMs: 0 }), /window .*sizeMs 0/],
    ['window hop NaN', tiles({ kind: 'hopping', sizeMs: 60_000, hopMs: Number.NaN }), /window .*hopMs NaN/],
    [
      'window size not a multiple of its hop',
      tiles({ kind: 'hopping', sizeMs: 1000, hopMs: 300 }),
      /multiple/,
    ],
    ['memoryStore latencyMs -1', () => memoryStore({ latencyMs: -1 }), /memoryStore: latencyMs must be/],
    ['memoryStore latencyMs Infinity', () => memoryStore({ latencyMs: Infinity }), /latencyMs .*at most/],
    [
      'reader ttlMs -1',
      () => onlineReader({ store, features: [{ name: 'x', valueType: 'int64', ttlMs: -1 }] }),
      /ttlMs/,
    ],
  ]

  it.each(cases)('%s', (_, construct, error) => {
    if (error === null) {
      expect(construct).not.toThrow()
      return
    }
    let thrown: unknown
    try {
      construct()
    } catch (e) {
      thrown = e
    }
    expect(thrown, 'accepted silently').toBeInstanceOf(InvalidDefinitionError)
    expect((thrown as Error).message).toMatch(error)
  })
})
