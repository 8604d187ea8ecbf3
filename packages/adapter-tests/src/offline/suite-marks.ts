/** Conformance tests of commit marks (`appendMarked` / `readMarks`, the `CheckpointLog` side). */
import assert from 'node:assert/strict'
import type { CommittedCheckpoint } from '@skewless/core'
import { MarksRefusedError } from '@skewless/offline-log'
import { fw, OFFLINE_SUITE_FEATURES, uid } from './fixtures.js'
import { ALL, rejects, rows, type SuiteContext } from './suite-helpers.js'

const checkpoint = (n: number): CommittedCheckpoint => ({
  format: 'skewless.checkpoint/1',
  operator: { n, nested: { list: [1, 'two', null] } } as never,
  sources: { 'clicks/0': n, 'views/0': { seq: n, stream: 'v' } },
  takenAt: 1_700_000_000_000 + n,
})

/** Register the marks tests. */
export function marksTests({ test, open, suite }: SuiteContext): void {
  test('readMarks of a log without marks is {}', async () => {
    const log = await open()
    assert.deepEqual(await log.readMarks(), {})
    await log.append([fw({ entity: uid(), feature: 'clicks', value: 1 })])
    assert.deepEqual(await log.readMarks(), {})
    await log.close()
  })

  test('appendMarked commits records and marks; a key left out keeps its value', async () => {
    const log = await open()
    const e = uid()
    await log.appendMarked([fw({ entity: e, feature: 'clicks', value: 1 })], { marks: { changelog: '1-0' } })
    assert.deepEqual(await log.readMarks(), { changelog: '1-0' })
    await log.appendMarked([fw({ entity: e, feature: 'clicks', value: 2, eventTime: 2e12 })], {
      marks: { changelog: '2-0', checkpoint: checkpoint(1) },
    })
    assert.deepEqual(await log.readMarks(), { changelog: '2-0', checkpoint: checkpoint(1) })
    await log.appendMarked([], { marks: { changelog: { stream: 's', id: '3-0' } } })
    assert.deepEqual(await log.readMarks(), {
      changelog: { stream: 's', id: '3-0' },
      checkpoint: checkpoint(1),
    })
    assert.deepEqual(
      (await rows(log, { features: ALL })).map((r) => r.value),
      [1, 2],
    )
    await log.close()
  })

  test('an empty batch with marks commits the marks alone', async () => {
    const log = await open()
    await log.appendMarked([], { marks: { checkpoint: checkpoint(7) } })
    assert.deepEqual(await log.readMarks(), { checkpoint: checkpoint(7) })
    assert.deepEqual(await rows(log, { features: ALL }), [])
    await log.close()
  })

  test('marks take effect together with every batch appended or written before them', async () => {
    const log = await open()
    const e = uid()
    const before: Promise<unknown>[] = []
    for (let i = 0; i < 10; i++) {
      before.push(log.append([fw({ entity: `${e}-a${i}`, feature: 'clicks', value: i })]))
      before.push(Promise.resolve(log.write([fw({ entity: `${e}-w${i}`, feature: 'spend', value: i })])))
    }
    await log.appendMarked([fw({ entity: `${e}-m`, feature: 'clicks', value: 99 })], {
      marks: { changelog: 20 },
    })
    // No await of the earlier calls: the marked commit resolving means they are in the log.
    assert.equal((await rows(log, { features: ALL })).length, 21)
    assert.deepEqual(await log.readMarks(), { changelog: 20 })
    await Promise.all(before)
    await log.close()
  })

  test('marks are copied in and out: mutating them does not change the log', async () => {
    const log = await open()
    const cp = checkpoint(3)
    await log.appendMarked([], { marks: { checkpoint: cp } })
    ;(cp.sources as Record<string, unknown>)['clicks/0'] = 'changed'
    const read = await log.readMarks()
    assert.deepEqual(read, { checkpoint: checkpoint(3) })
    ;(read.checkpoint as CommittedCheckpoint).takenAt = 0
    assert.deepEqual(await log.readMarks(), { checkpoint: checkpoint(3) })
    await log.close()
  })

  test('bad marks are refused with InvalidArgumentError; a marked batch with a bad record writes neither', async () => {
    const log = await open()
    const e = uid()
    await rejects(log.appendMarked([], undefined as never), 'invalid-argument')
    await rejects(log.appendMarked([], { marks: { position: 1 } as never }), 'invalid-argument')
    await rejects(log.appendMarked([], { marks: { changelog: 10n as never } }), 'invalid-argument')
    await rejects(
      log.appendMarked(
        [fw({ entity: e, feature: 'clicks', value: 1 }), fw({ entity: e, feature: 'clicks', value: 'x' })],
        { marks: { changelog: 1 } },
      ),
      'invalid-record',
    )
    assert.deepEqual(await log.readMarks(), {})
    assert.deepEqual(await rows(log, { features: ALL }), [])
    await log.close()
  })

  test('after a failed append, marks are refused until readMarks() is called', async () => {
    const log = await open()
    const e = uid()
    await log.appendMarked([fw({ entity: e, feature: 'clicks', value: 1 })], { marks: { changelog: 1 } })
    await rejects(log.append([fw({ entity: e, feature: 'clicks', value: 1.5 })]), 'invalid-record')
    const err = await rejects(
      log.appendMarked([fw({ entity: e, feature: 'clicks', value: 3, eventTime: 3e12 })], {
        marks: { changelog: 3 },
      }),
      'marks-refused',
    )
    assert.ok(err instanceof MarksRefusedError)
    // Nothing of the refused call was written, and the durable marks still describe the log.
    assert.deepEqual(await log.readMarks(), { changelog: 1 })
    assert.deepEqual(
      (await rows(log, { features: ALL })).map((r) => r.value),
      [1],
    )
    await log.appendMarked([fw({ entity: e, feature: 'clicks', value: 3, eventTime: 3e12 })], {
      marks: { changelog: 3 },
    })
    assert.deepEqual(await log.readMarks(), { changelog: 3 })
    await log.close()
  })

  test('durable logs keep their marks across a reopen', async () => {
    const log = await open()
    if (!log.capabilities.durable || !suite.reopen) return log.close()
    const e = uid()
    await log.appendMarked([fw({ entity: e, feature: 'clicks', value: 1 })], {
      marks: { changelog: 'a', checkpoint: checkpoint(1) },
    })
    await log.appendMarked([], { marks: { changelog: 'b' } })
    const again = await suite.reopen(log, { features: OFFLINE_SUITE_FEATURES })
    assert.deepEqual(await again.readMarks(), { changelog: 'b', checkpoint: checkpoint(1) })
    assert.equal((await rows(again, { features: ALL })).length, 1)
    await again.close()
  })

  test('appendMarked after close is rejected with ClosedError', async () => {
    const log = await open()
    await log.close()
    await rejects(log.appendMarked([], { marks: { changelog: 1 } }), 'closed')
  })
}
