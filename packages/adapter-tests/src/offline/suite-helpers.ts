/** Shared helpers of the offline-log conformance suite. */
import assert from 'node:assert/strict'
import type { FeatureWrite, Sink } from '@skewless/core'
import {
  type OfflineLog,
  type OfflineLogOptions,
  recordBatchToWrites,
  type ScanOptions,
} from '@skewless/offline-log'
import { byKey, fw, OFFLINE_SUITE_FEATURES } from './fixtures.js'
import type { OfflineLogSuiteOptions } from './suite.js'

export const ALL = Object.keys(OFFLINE_SUITE_FEATURES)
export const T0 = Date.UTC(2026, 10, 1)

export async function rows(log: OfflineLog, o: ScanOptions): Promise<FeatureWrite[]> {
  const out: FeatureWrite[] = []
  for await (const b of log.scan(o)) out.push(...recordBatchToWrites(b))
  return out.sort(byKey)
}

export async function rowObjects(log: OfflineLog, o: ScanOptions): Promise<FeatureWrite[]> {
  const out: FeatureWrite[] = []
  for await (const b of log.scanRows(o)) out.push(...b)
  return out.sort(byKey)
}

export async function rejects(
  p: Promise<unknown> | (() => Promise<unknown>),
  code: string,
): Promise<unknown> {
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (e) {
    assert.equal((e as { code?: string }).code, code, `expected error code ${code}, got ${String(e)}`)
    return e
  }
  assert.fail(`expected a rejection with code ${code}`)
}

export function collect<T>(): Sink<T> & { items: T[] } {
  const items: T[] = []
  return {
    items,
    write: (b) => {
      items.push(...b)
    },
    flush: async () => {},
    close: async () => {},
  }
}

/** Every value type, including the edge cases the log promises to round-trip. */
export function valueCases(e: string, negativeTimes = true, nanDoubles = true): FeatureWrite[] {
  const t = T0 + 1000
  const recs: FeatureWrite[] = []
  const doubles = [1.5, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-300, null]
  if (nanDoubles) doubles.push(Number.NaN)
  const ints = [0, -1, 2 ** 53 - 1, -(2 ** 53 - 1), 123456789012, null]
  const strings = ['', 'plain', 'héllo wörld', '日本語', '😀 emoji', 'a\u0000b', null]
  const bools = [true, false, null]
  doubles.forEach((v, i) => {
    recs.push(fw({ entity: `${e}-d${i}`, feature: 'spend', value: v, eventTime: t + i }))
  })
  ints.forEach((v, i) => {
    recs.push(fw({ entity: `${e}-i${i}`, feature: 'clicks', value: v, eventTime: t - i }))
  })
  strings.forEach((v, i) => {
    recs.push(fw({ entity: `${e}-s${i}`, feature: 'country', value: v, version: i }))
  })
  bools.forEach((v, i) => {
    recs.push(fw({ entity: `${e}-b${i}`, feature: 'active', value: v, availableTime: t + i }))
  })
  recs.push(fw({ entity: `${e}-tile`, feature: 'clicks', value: 3, tileStart: T0 - 60_000 }))
  if (negativeTimes) {
    recs.push(
      fw({ entity: `${e}-neg`, feature: 'clicks', value: 1, eventTime: -86_400_000, availableTime: -1 }),
    )
  }
  return recs
}

/** What each group of suite tests gets from `offlineLogSuite`. */
export interface SuiteContext {
  /** Register a test (name prefixed, timeout applied). */
  test: (title: string, fn: () => Promise<void>) => void
  /** A fresh log with the suite's features (plus `extra` options). */
  open: (extra?: Partial<OfflineLogOptions>) => Promise<OfflineLog>
  /** The suite's options. */
  suite: OfflineLogSuiteOptions
}
