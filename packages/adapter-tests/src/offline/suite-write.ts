/** Conformance tests of writing: validation, dead letters, Sink use, close, durability. */
import assert from 'node:assert/strict'
import type { FeatureWrite } from '@skewless/core'
import { InvalidRecordError, type RejectedWrite } from '@skewless/offline-log'
import { byKey, fw, OFFLINE_SUITE_FEATURES, uid } from './fixtures.js'
import { ALL, collect, rejects, rows, type SuiteContext, T0, valueCases } from './suite-helpers.js'

/** Register the write tests. */
export function writeTests({ test, open, suite }: SuiteContext): void {
  test('bad input is rejected with InvalidRecordError and nothing of the batch is written', async () => {
    const log = await open()
    const e = uid()
    const good = fw({ entity: e, feature: 'clicks', value: 1 })
    const bad: [Partial<FeatureWrite>, string][] = [
      [{ feature: 'nope' }, 'unknown-feature'],
      [{ value: 1.5 }, 'invalid-value'], // clicks is int64
      [{ value: 'x' }, 'invalid-value'],
      [{ eventTime: Number.NaN }, 'invalid-time'],
      [{ eventTime: Number.POSITIVE_INFINITY }, 'invalid-time'],
      [{ availableTime: 1.5 }, 'invalid-time'],
      [{ outcome: 'maybe' as never }, 'invalid-value'],
      [{ entity: 42 as never }, 'invalid-value'],
    ]
    for (const [patch, code] of bad) {
      const err = await rejects(log.append([good, { ...good, ...patch }]), 'invalid-record')
      assert.ok(err instanceof InvalidRecordError)
      assert.equal((err as InvalidRecordError).rejected.code, code, JSON.stringify(patch))
      assert.match((err as Error).message, /rejected/)
    }
    await rejects(log.append([fw({ entity: e, feature: 'active', value: 1 })]), 'invalid-record')
    await rejects(log.append([fw({ entity: e, feature: 'country', value: 3 })]), 'invalid-record')
    await rejects(log.append([fw({ entity: e, feature: 'spend', value: 'x' })]), 'invalid-record')
    await rejects(log.append([fw({ entity: e, feature: 'clicks', value: 2 ** 60 })]), 'invalid-record')
    assert.deepEqual(await rows(log, { features: ALL }), [])
    await log.close()
  })

  test('the caller may reuse its array as soon as append or write returns', async () => {
    for (const withDead of [false, true]) {
      const log = await open(withDead ? { deadLetters: collect<RejectedWrite>() } : {})
      const e = uid()
      // distinct writes: a write is identified by (entity, feature, tileStart, eventTime, version)
      const buf = [
        fw({ entity: e, feature: 'clicks', value: 1, version: 1 }),
        fw({ entity: e, feature: 'clicks', value: 2, version: 2 }),
      ]
      if (withDead) buf.push(fw({ entity: e, feature: 'nope', value: 1 }))
      const appended = log.append(buf)
      buf.length = 0
      buf.push(fw({ entity: e, feature: 'clicks', value: 3, version: 3 }))
      const written = log.write(buf)
      buf.length = 0
      await Promise.all([appended, written])
      await log.flush()
      assert.deepEqual(
        (await rows(log, { features: ALL })).map((r) => r.value).sort(),
        [1, 2, 3],
        `with deadLetters: ${withDead}`,
      )
      await log.close()
    }
  })

  test('with deadLetters, bad records are routed aside with a reason and good ones are written', async () => {
    const dead = collect<RejectedWrite>()
    const log = await open({ deadLetters: dead })
    const e = uid()
    await log.append([
      fw({ entity: e, feature: 'clicks', value: 1 }),
      fw({ entity: e, feature: 'nope', value: 1 }),
      fw({ entity: e, feature: 'spend', value: 'NaN-as-string' }),
      fw({ entity: e, feature: 'spend', value: 2, eventTime: Number.NaN }),
      fw({ entity: e, feature: 'spend', value: 2.5 }),
    ])
    assert.deepEqual(
      dead.items.map((d) => d.reason),
      ['unknown-feature', 'invalid-value', 'invalid-time'],
    )
    for (const d of dead.items)
      assert.ok(d.message.length > 0 && d.code === d.reason && d.record.entity === e)
    assert.deepEqual(
      (await rows(log, { features: ALL })).map((r) => r.value),
      [1, 2.5],
    )
    await log.close()
  })

  test('scan and stateAt reject undeclared features and bad options with typed errors', async () => {
    const log = await open()
    await rejects(async () => {
      for await (const _ of log.scan({ features: ['nope'] })) void _
    }, 'invalid-argument')
    await rejects(async () => {
      for await (const _ of log.scan({ features: ['clicks'], from: Number.NaN })) void _
    }, 'invalid-argument')
    await rejects(log.stateAt(Number.NaN, { features: ['clicks'] }), 'invalid-argument')
    await rejects(log.stateAt(T0, { features: ['nope'] }), 'invalid-argument')
    await log.close()
  })

  test('works as a Sink: write + flush, concurrent appends all land', async () => {
    const log = await open()
    const e = uid()
    const ps: (void | Promise<void>)[] = []
    for (let i = 0; i < 20; i++)
      ps.push(log.write([fw({ entity: `${e}-${i}`, feature: 'clicks', value: i })]))
    await Promise.all(ps)
    await log.flush()
    const got = await rows(log, { features: ['clicks'] })
    assert.deepEqual(
      got.map((r) => r.value).sort((a, b) => (a as number) - (b as number)),
      [...Array(20).keys()],
    )
    await log.close()
  })

  test('append after close is rejected with ClosedError', async () => {
    const log = await open()
    await log.close()
    await rejects(log.append([fw({ entity: uid(), feature: 'clicks', value: 1 })]), 'closed')
  })

  test('durable logs keep acknowledged records across a reopen', async () => {
    const log = await open()
    if (!log.capabilities.durable || !suite.reopen) return log.close()
    const recs = valueCases(uid(), suite.negativeTimes, suite.nanDoubles)
    await log.append(recs)
    const again = await suite.reopen(log, { features: OFFLINE_SUITE_FEATURES })
    assert.deepEqual(await rows(again, { features: ALL }), [...recs].sort(byKey))
    await again.close()
  })
}
