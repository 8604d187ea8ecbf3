import type { OfflineLog, OfflineLogOptions } from '@skewless/offline-log'
import type { TestFn } from '../types.js'
import { OFFLINE_SUITE_FEATURES } from './fixtures.js'
import { marksTests } from './suite-marks.js'
import { readTests } from './suite-read.js'
import { writeTests } from './suite-write.js'

/** Creates a fresh, empty log for each test. */
export type OfflineLogFactory = (options: OfflineLogOptions) => OfflineLog | Promise<OfflineLog>

/** Options of the offline-log conformance suite. */
export interface OfflineLogSuiteOptions {
  /** Prefix of every test name. @default 'offline log' */
  name?: string
  /**
   * For durable adapters: close `log` and open the same storage again. When given (and the log says
   * `durable`), the suite checks that appended records survive a reopen.
   */
  reopen?: (log: OfflineLog, options: OfflineLogOptions) => Promise<OfflineLog>
  /** Per-test timeout in ms. @default 20_000 */
  timeoutMs?: number
  /** Whether the adapter stores times before 1970 (the parquetjs-lite encoder cannot). @default true */
  negativeTimes?: boolean
  /** Whether the adapter stores NaN doubles (the parquetjs-lite encoder cannot). @default true */
  nanDoubles?: boolean
}

/**
 * The OfflineLog conformance suite (keyv test-suite style): pass vitest's `it` and a factory that
 * returns a fresh log for the given options. Groups switch on by `capabilities`.
 */
export function offlineLogSuite(
  it: TestFn,
  factory: OfflineLogFactory,
  suite: OfflineLogSuiteOptions = {},
): void {
  offlineLogReadTests(it, factory, suite)
  offlineLogWriteTests(it, factory, suite)
  offlineLogMarksTests(it, factory, suite)
}

function context(it: TestFn, factory: OfflineLogFactory, suite: OfflineLogSuiteOptions) {
  const name = suite.name ?? 'offline log'
  const ms = suite.timeoutMs ?? 20_000
  const open = async (extra: Partial<OfflineLogOptions> = {}) =>
    factory({ features: OFFLINE_SUITE_FEATURES, ...extra })
  const test = (title: string, fn: () => Promise<void>) => it(`${name}: ${title}`, fn, ms)
  return { test, open, suite }
}

// The groups of `offlineLogSuite`, one by one (as keyv's `storageTtlTests`).

/** Reads: scans (Arrow layout, sorted, filtered, half-open bounds, stale hidden) and `stateAt` on both time bases against a reference. */
export function offlineLogReadTests(
  it: TestFn,
  factory: OfflineLogFactory,
  suite: OfflineLogSuiteOptions = {},
): void {
  readTests(context(it, factory, suite))
}

/** Writes: bad input rejected whole or dead-lettered, reused arrays, the log as a `Sink`, close, durability across a reopen. */
export function offlineLogWriteTests(
  it: TestFn,
  factory: OfflineLogFactory,
  suite: OfflineLogSuiteOptions = {},
): void {
  writeTests(context(it, factory, suite))
}

/** Commit marks (`appendMarked`/`readMarks`): atomic with the records, copied, refused after a failed append, durable. */
export function offlineLogMarksTests(
  it: TestFn,
  factory: OfflineLogFactory,
  suite: OfflineLogSuiteOptions = {},
): void {
  marksTests(context(it, factory, suite))
}
