/**
 * The fraud example end to end against a real redis-server: the features carry signal (held-out
 * AUC well above a constant score), the training set never leaks the future (every value recomputed
 * by brute force from the payments available strictly before the label's time), and what Redis
 * serves is what the log says.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type RedisServerHandle, startRedis } from '@skewless/adapter-tests'
import { asOfJoin } from '@skewless/asof-join'
import { windowAt } from '@skewless/core'
import { parquetLog } from '@skewless/offline-parquet'
import type { Table } from 'apache-arrow'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AVAILABILITY_DELAY_MS, type FraudExampleResult, features, runFraudExample } from '../src/fraud.js'
import { generateTransactions, type Transaction } from '../src/transactions.js'

let server: RedisServerHandle
let dir: string
let result: FraudExampleResult
const lines: string[] = []

beforeAll(async () => {
  server = await startRedis({ useEnv: false })
  dir = await mkdtemp(join(tmpdir(), 'skewless-fraud-test-'))
  result = await runFraudExample({ redisUrl: server.url, dir, print: (l) => lines.push(l) })
}, 60_000)
afterAll(async () => {
  await server?.stop()
  if (dir) await rm(dir, { recursive: true, force: true })
})

const windows = Object.fromEntries(features.describe().map((f) => [f.name, f.window]))
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v))

/** Payments of `card` a live pipeline had served by `t`: their features were available at ts + delay <= t. */
function availableBefore(byCard: Map<string, Transaction[]>, card: string, t: number): Transaction[] {
  return (byCard.get(card) ?? []).filter((p) => p.ts + AVAILABILITY_DELAY_MS <= t)
}
function inWindow(p: Transaction, t: number, feature: string): boolean {
  const w = windowAt(t, windows[feature] as Parameters<typeof windowAt>[1])
  return p.ts >= w.start && p.ts < w.end
}

/**
 * Every training value against a brute force over the raw payments of the card available strictly
 * before the label (`ts + delay <= label time`); returns what disagrees.
 */
function bruteForceCheck(t: Table): { problems: string[]; withValues: number } {
  const byCard = new Map<string, Transaction[]>()
  for (const p of result.transactions) byCard.set(p.card, [...(byCard.get(p.card) ?? []), p])
  const problems: string[] = []
  let withValues = 0
  for (let i = 0; i < t.numRows; i++) {
    const row = t.get(i)?.toJSON() as Record<string, unknown>
    const time = Number(row.time)
    const seen = availableBefore(byCard, String(row.entity), time)
    const got = [num(row.txn_count_1h), num(row.amount_sum_24h), num(row.distinct_merchants_24h)]
    if (seen.length === 0) {
      // Nothing of this card was readable yet: every feature is missing, not 0.
      if (got.some((v) => v !== null)) problems.push(`row ${i}: ${got} before any readable payment`)
      continue
    }
    withValues++
    const count = seen.filter((p) => inWindow(p, time, 'txn_count_1h')).length
    const amount = seen.filter((p) => inWindow(p, time, 'amount_sum_24h')).reduce((s, p) => s + p.amount, 0)
    // The distinct count is a whole value written at instant tau (its event time): it must have been
    // readable before the label (tau + delay <= time) and count the merchants of the window at tau.
    const tau = num(row.distinct_merchants_24h__event_time) as number
    const atTau = seen.filter((p) => p.ts <= tau && inWindow(p, tau, 'distinct_merchants_24h'))
    const distinct = new Set(atTau.map((p) => p.merchant)).size
    if (got[0] !== count) problems.push(`row ${i}: txn_count_1h ${got[0]}, brute force ${count}`)
    const sum = got[1]
    if (sum === null || sum === undefined || Math.abs(sum - amount) > 1e-6)
      problems.push(`row ${i}: amount_sum_24h ${got[1]}, brute force ${amount}`)
    if (tau + AVAILABILITY_DELAY_MS > time)
      problems.push(`row ${i}: distinct value of ${tau} not readable at ${time}`)
    if (got[2] !== distinct)
      problems.push(`row ${i}: distinct_merchants_24h ${got[2]}, brute force ${distinct}`)
  }
  return { problems, withValues }
}

describe('examples/fraud', () => {
  it('generates the same payments from the same seed, with frauds in the held-out days', () => {
    expect(generateTransactions()).toEqual(result.transactions)
    expect(generateTransactions({ seed: 8 })).not.toEqual(result.transactions)
    expect(result.testFrauds).toBeGreaterThan(20)
    expect(result.testRows - result.testFrauds).toBeGreaterThan(500)
  })

  it('the features carry signal: held-out AUC beats a constant score by a wide margin', () => {
    console.log(
      `fraud example: held-out AUC ${result.testAuc.toFixed(3)} (baseline ${result.baselineAuc}), ` +
        `accuracy ${result.testAccuracy.toFixed(3)} (baseline ${result.baselineAccuracy.toFixed(3)}), ` +
        `${result.testRows} rows, ${result.testFrauds} frauds`,
    )
    expect(result.baselineAuc).toBe(0.5)
    expect(result.testAuc).toBeGreaterThan(0.8)
    expect(result.testAuc - result.baselineAuc).toBeGreaterThan(0.3)
    expect(result.testAccuracy).toBeGreaterThan(result.baselineAccuracy)
  })

  it('the training set has no future leakage: every value equals a brute force over the payments available before the label', async () => {
    const t = result.training
    expect(t.numRows).toBe(result.transactions.length)
    expect((await stat(result.trainingFile)).size).toBeGreaterThan(10_000)
    const check = bruteForceCheck(t)
    expect(check.problems.slice(0, 5)).toEqual([])
    expect(check.withValues).toBeGreaterThan(t.numRows * 0.8)
  })

  it('the brute force catches a leaky join (negative control: a classic event-time as-of join)', async () => {
    const log = await parquetLog({
      dir: join(dir, 'feature-log'),
      features: features.describe(),
      readOnly: true,
    })
    try {
      const labels = {
        entity: result.transactions.map((p) => p.card),
        time: result.transactions.map((p) => p.ts),
      }
      const leaky = await asOfJoin(labels, log, {
        features: features.names,
        definitions: features.describe(),
        by: 'event', // takes each payment's own update, available only 1 s later
        includeEventTime: true,
      })
      const check = bruteForceCheck(leaky)
      expect(check.problems.length).toBeGreaterThan(leaky.numRows / 2)
    } finally {
      await log.close()
    }
  })

  it('Redis serves what the log says at the end of the data, and what the payments say', () => {
    expect(result.auditChecked).toBe(result.served.length)
    expect(result.served.length).toBe(9) // 3 cards x 3 features
    expect(result.auditMismatches).toBe(0)
    const byCard = new Map<string, Transaction[]>()
    for (const p of result.transactions) byCard.set(p.card, [...(byCard.get(p.card) ?? []), p])
    for (const s of result.served) {
      const seen = availableBefore(byCard, s.entity, s.readTime)
      if (s.feature === 'txn_count_1h') {
        expect(s.value).toBe(seen.filter((p) => inWindow(p, s.readTime, s.feature)).length)
      } else if (s.feature === 'amount_sum_24h') {
        expect(s.value).toBeCloseTo(
          seen.filter((p) => inWindow(p, s.readTime, s.feature)).reduce((a, p) => a + p.amount, 0),
          6,
        )
      }
    }
    expect(lines.some((l) => l.startsWith('backfill: '))).toBe(true)
  })
})
