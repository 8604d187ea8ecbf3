/**
 * Nothing vanishes silently: dead letters of the sink and of the log behind it are in the pipeline's
 * metrics by reason, and without a dead-letter output each reason is logged (rate-limited). On the
 * old code the pipeline's metrics had no sink or log dead letters, and nothing was logged.
 */
import {
  arraySource,
  collectingSink,
  createPipeline,
  defineFeatures,
  type Logger,
  last,
  manualClock,
  unbounded,
} from '@skewless/core'
import { memoryLog, type RejectedWrite } from '@skewless/offline-log'
import {
  changelogCommitter,
  memoryStore,
  type OnlineFeatureConfig,
  onlineFeatures,
  onlineSink,
} from '@skewless/online-sink'
import { describe, expect, it } from 'vitest'

const T0 = Date.UTC(2026, 0, 1)

interface Txn {
  account: string
  ts: number
  amount: number
}

const features = defineFeatures<Txn>({
  entity: (e) => e.account,
  eventTime: (e) => e.ts,
  features: { last_amount: { window: unbounded(), aggregate: last('double'), value: (e) => e.amount } },
})

/** A logger that keeps every line. */
function recordingLogger() {
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = []
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj: obj as Record<string, unknown>, msg: msg ?? '' })
    }
  const logger: Logger = { warn: at('warn'), info: at('info'), error: at('error') }
  return { logger, lines }
}

const events: Txn[] = [
  { account: 'a', ts: T0, amount: 1.5 },
  { account: 'b', ts: T0 + 1, amount: 2 },
  { account: '', ts: T0 + 2, amount: 3 }, // no usable entity key: the pipeline's own dead letter
]

describe('dead letters reach the pipeline metrics and the logger', () => {
  it('a value the sink refuses (no dead-letter output): counted by reason and logged with it', async () => {
    const { logger, lines } = recordingLogger()
    const clock = manualClock(T0 + 10)
    // The sink is told int64 (a config written apart from the definition): 1.5 does not fit.
    const configs: OnlineFeatureConfig[] = [{ name: 'last_amount', valueType: 'int64', strategy: 'cas' }]
    const sink = onlineSink({ store: memoryStore({ clock }), features: configs, clock, logger })
    const pipeline = createPipeline({ source: events, features, sink, clock, logger })
    const { metrics } = await pipeline.run()
    await pipeline.close()
    expect(metrics.sinkDeadLetters).toBe(1)
    expect(metrics.deadLettersByReason['sink:serialization']).toBe(1)
    expect(metrics.deadLetters).toBe(1)
    expect(metrics.deadLettersByReason['missing-key']).toBe(1)
    const sinkLine = lines.find((l) => l.obj.reason === 'serialization')
    expect(sinkLine?.level).toBe('warn')
    expect(sinkLine?.msg).toMatch(/dead-lettered \(serialization\).*no deadLetters output/)
    expect(String(sinkLine?.obj.message)).toMatch(/int64/)
    const ownLine = lines.find((l) => l.obj.reason === 'missing-key')
    expect(ownLine?.msg).toMatch(/dead-lettered \(missing-key\).*no deadLetters output/)
  })

  it("records the log behind the sink rejects are the pipeline's logDeadLetters, by code", async () => {
    const { logger } = recordingLogger()
    const clock = manualClock(T0 + 10)
    const rejected = collectingSink<RejectedWrite>()
    // The log was opened with another type for the feature: it rejects what the sink applied.
    const log = memoryLog({ features: { last_amount: 'string' }, deadLetters: rejected })
    const configs: OnlineFeatureConfig[] = [{ name: 'last_amount', valueType: 'double', strategy: 'cas' }]
    const sink = onlineSink({
      store: memoryStore({ clock }),
      features: configs,
      clock,
      downstream: log,
      logger,
    })
    const pipeline = createPipeline({ source: events.slice(0, 2), features, sink, clock, logger })
    const { metrics } = await pipeline.run()
    await pipeline.close()
    expect(rejected.items).toHaveLength(2)
    expect(metrics.logDeadLetters).toBe(2)
    expect(metrics.deadLettersByReason['log:invalid-value']).toBe(2)
    expect(sink.metrics().logDeadLettersByReason).toEqual({ 'invalid-value': 2 })
    expect(sink.metrics().logDeadLettersByCode).toEqual({ 'invalid-value': 2 }) // the deprecated alias
  })

  it('repeats are summarized: one line per reason per interval, with the count held back logged at close', async () => {
    const { logger, lines } = recordingLogger()
    const clock = manualClock(T0 + 10)
    const configs: OnlineFeatureConfig[] = [{ name: 'last_amount', valueType: 'int64', strategy: 'cas' }]
    const sink = onlineSink({ store: memoryStore({ clock }), features: configs, clock, logger })
    const many: Txn[] = Array.from({ length: 50 }, (_, i) => ({ account: `k${i}`, ts: T0, amount: i + 0.5 }))
    const pipeline = createPipeline({ source: many, features, sink, clock, logger, batchSize: 5 })
    await pipeline.run()
    await pipeline.close()
    const summaries = lines.filter((l) => l.obj.reason === 'serialization')
    expect(summaries.length).toBeLessThanOrEqual(2)
    expect(summaries.map((l) => l.obj.count as number).reduce((a, b) => a + b, 0)).toBe(50)
    expect(summaries.at(-1)?.obj.total).toBe(50)
  })

  it('late events without a lateEvents output are logged with their count', async () => {
    const { logger, lines } = recordingLogger()
    const clock = manualClock(T0 + 10)
    const sink = onlineSink({
      store: memoryStore({ clock }),
      features: onlineFeatures(features.describe()),
      clock,
      logger,
    })
    // The second event is 5 ms behind the first, past allowedLateness 0: late.
    const late: Txn[] = [
      { account: 'a', ts: T0 + 5, amount: 1 },
      { account: 'a', ts: T0, amount: 2 },
    ]
    const pipeline = createPipeline({ source: late, features, sink, clock, logger, batchSize: 1 })
    const { metrics } = await pipeline.run()
    await pipeline.close()
    expect(metrics.lateEvents).toBe(1)
    const line = lines.find((l) => /behind the watermark/.test(l.msg))
    expect(line?.obj.count).toBe(1)
    expect(line?.msg).toMatch(/lateEvents output/)
  })

  it('with a changelog, what the log rejects reaches the pipeline through the checkpoint committer', async () => {
    const clock = manualClock(T0 + 10)
    const rejected = collectingSink<RejectedWrite>()
    const log = memoryLog({ features: { last_amount: 'string' }, deadLetters: rejected })
    const store = memoryStore({ clock, changelog: true })
    const committer = changelogCommitter({ store, log, intervalMs: 0 })
    const sink = onlineSink({ store, features: onlineFeatures(features.describe()), clock, logger: false })
    const pipeline = createPipeline({
      source: arraySource('txns', events.slice(0, 2)),
      features,
      sink,
      clock,
      checkpoints: committer,
      logger: false,
    })
    const { metrics } = await pipeline.run()
    await pipeline.close()
    await committer.close()
    expect(rejected.items).toHaveLength(2)
    expect(metrics.logDeadLetters).toBe(2)
    expect(metrics.deadLettersByReason['log:invalid-value']).toBe(2)
  })
})
