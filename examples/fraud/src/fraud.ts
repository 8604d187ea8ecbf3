/**
 * The fraud example as a function: card transactions → three features defined once → the offline
 * log (backfilled at event granularity) and Redis (materialized from the log) → a leak-free
 * training set → a logistic regression scored on held-out days.
 */
import { join } from 'node:path'
import { writeParquet } from '@skewless/asof-join'
import {
  collectingSink,
  count,
  defineFeatures,
  distinctCount,
  hopping,
  manualClock,
  sum,
} from '@skewless/core'
import { featureStore } from '@skewless/feature-store'
import { parquetLog } from '@skewless/offline-parquet'
import { redisStore } from '@skewless/online-redis'
import type { ServedRecord } from '@skewless/online-sink'
import type { Table } from 'apache-arrow'
import { auc, fitLogistic, type LogisticModel } from './model.js'
import { type GenerateOptions, generateTransactions, type Transaction } from './transactions.js'

/** The features, defined once: the backfill, Redis, the reader and the join all take them from here. */
export const features = defineFeatures({
  entity: (t: Transaction) => t.card,
  eventTime: (t) => t.ts,
  features: {
    txn_count_1h: {
      window: hopping('1h', '5m'),
      aggregate: count(),
      emit: 'tiles', // Redis keeps 5-minute tiles; the reader sums the last hour's at read time
      description: 'payments made with the card in the last hour',
      owner: 'risk',
      tags: ['fraud'],
    },
    amount_sum_24h: {
      window: hopping('24h', '1h'),
      aggregate: sum(),
      value: (t) => t.amount,
      emit: 'tiles',
      description: 'dollars paid with the card in the last 24 hours',
      owner: 'risk',
      tags: ['fraud'],
    },
    distinct_merchants_24h: {
      window: hopping('24h', '1h'),
      aggregate: distinctCount(), // not additive: written as a whole value
      value: (t) => t.merchant,
      description: 'different merchants the card paid in the last 24 hours',
      owner: 'risk',
      tags: ['fraud'],
    },
  },
})

/** The model's inputs, in this order. */
export const MODEL_INPUTS = ['txn_count_1h', 'amount_sum_24h', 'distinct_merchants_24h'] as const

/** How long after a payment its features are readable online (the live pipeline's lag, simulated by the backfill). */
export const AVAILABILITY_DELAY_MS = 1_000

/** Options of `runFraudExample`. */
export interface FraudExampleOptions {
  /** The Redis to materialize into, e.g. `redis://127.0.0.1:6379`. */
  redisUrl: string
  /** Prefix of every Redis key. @default 'fraud-example:' */
  redisPrefix?: string
  /** Directory for `feature-log/` and `training.parquet`. */
  dir: string
  /** The generated data. @default generateTransactions's defaults */
  data?: GenerateOptions
  /** Progress lines. @default console.log */
  print?: (line: string) => void
}

/** What the example found. */
export interface FraudExampleResult {
  transactions: Transaction[]
  /** Every payment as a label row (entity, time, is_fraud) with the features as served just before it. */
  training: Table
  trainingFile: string
  /** Label rows before `splitTime` train the model; the rest test it. */
  splitTime: number
  model: LogisticModel
  /** Held-out ROC AUC of the model, and of a model that knows nothing (0.5). */
  testAuc: number
  baselineAuc: number
  /** Held-out accuracy at a 0.5 threshold, and of always answering "not fraud". */
  testAccuracy: number
  baselineAccuracy: number
  testRows: number
  testFrauds: number
  /** Redis read back at the end of the data, and the audit of those served values against the log. */
  served: ServedRecord[]
  auditMismatches: number
  auditChecked: number
}

/** Inputs of one training row: a missing feature (no payment yet in the window) is 0. */
export function modelInputs(row: Record<string, unknown>): number[] {
  return MODEL_INPUTS.map((f) => {
    const v = row[f]
    const n = v === null || v === undefined ? 0 : Number(v)
    return f === 'amount_sum_24h' ? Math.log1p(n) : n
  })
}

/** Run the whole example; resolves once every resource is closed. */
export async function runFraudExample(options: FraudExampleOptions): Promise<FraudExampleResult> {
  const print = options.print ?? console.log
  const transactions = generateTransactions(options.data)
  const first = (transactions[0] as Transaction).ts
  const end = (transactions.at(-1) as Transaction).ts + AVAILABILITY_DELAY_MS
  const frauds = transactions.filter((t) => t.fraud).length
  print(
    `${transactions.length} payments of ${new Set(transactions.map((t) => t.card)).size} cards from ` +
      `${new Date(first).toISOString()} to ${new Date(end).toISOString()}, ${frauds} in fraud bursts`,
  )

  // Processing time is simulated: "now" is the end of the data, when the model would go live.
  const clock = manualClock(end)
  const served = collectingSink<ServedRecord>()
  await using fs = await featureStore({
    features,
    online: () => redisStore({ url: options.redisUrl, prefix: options.redisPrefix ?? 'fraud-example:' }),
    offline: (definitions) => parquetLog({ dir: join(options.dir, 'feature-log'), features: definitions }),
    clock,
    servedLog: served,
  })

  // History goes through backfill (never the live path): each payment's features become available
  // AVAILABILITY_DELAY_MS after it, as a live pipeline would have served them.
  const backfilled = await fs.backfill(transactions, { availabilityDelay: AVAILABILITY_DELAY_MS })
  const loaded = await fs.materialize({ at: end })
  print(
    `backfill: ${backfilled.records} feature records in the log; materialize: ${loaded.records} values into Redis`,
  )

  // Serving: what Redis answers now for a few cards, including the most recently drained one.
  const lastFraud = transactions.findLast((t) => t.fraud) as Transaction
  const cards = [...new Set([lastFraud.card, 'card-0000', 'card-0001'])]
  for (const v of await fs.getOnlineFeatures(cards)) {
    const values = Object.entries(v.values).map(
      ([f, s]) =>
        `${f}=${s === null ? 'null' : typeof s.value === 'number' ? Math.round(s.value * 100) / 100 : s.value}`,
    )
    print(`  Redis ${v.entity}: ${values.join(' ')}`)
  }

  // Training: every payment is a label, joined with what was served just before it.
  const labels = {
    entity: transactions.map((t) => t.card),
    time: transactions.map((t) => t.ts),
    is_fraud: transactions.map((t) => t.fraud),
  }
  const training = await fs.getHistoricalFeatures(labels, undefined, { includeEventTime: true })
  const trainingFile = join(options.dir, 'training.parquet')
  await writeParquet(training, trainingFile)

  // Train on the first two thirds of the time range, test on the rest (later payments only: no peeking).
  const splitTime = first + ((end - first) * 2) / 3
  const train: { x: number[][]; y: number[] } = { x: [], y: [] }
  const test: { x: number[][]; y: number[] } = { x: [], y: [] }
  for (let i = 0; i < training.numRows; i++) {
    const row = training.get(i)?.toJSON() as Record<string, unknown>
    const part = (labels.time[i] as number) < splitTime ? train : test
    part.x.push(modelInputs(row))
    part.y.push(labels.is_fraud[i] ? 1 : 0)
  }
  const model = fitLogistic(train.x, train.y)
  const scores = test.x.map((x) => model.score(x))
  const testAuc = auc(scores, test.y)
  const baselineAuc = auc(
    test.x.map(() => 0),
    test.y,
  )
  const testFrauds = test.y.filter((y) => y === 1).length
  const testAccuracy = scores.filter((s, i) => (s >= 0.5 ? 1 : 0) === test.y[i]).length / test.y.length
  const baselineAccuracy = 1 - testFrauds / test.y.length

  const audit = await fs.audit(served.items)
  return {
    transactions,
    training,
    trainingFile,
    splitTime,
    model,
    testAuc,
    baselineAuc,
    testAccuracy,
    baselineAccuracy,
    testRows: test.y.length,
    testFrauds,
    served: served.items,
    auditMismatches: audit.mismatches.length,
    auditChecked: audit.checked,
  }
}
