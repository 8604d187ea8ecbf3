import { AbortedError, collectingSink, type FeatureUpdate, type FeatureWrite } from '@skewless/core'
import { describe, expect, it } from 'vitest'
import { materialize, memoryLog } from '../src/index.js'

const T0 = Date.UTC(2026, 10, 1)
const rec = (i: number): FeatureWrite => ({
  entity: `e${i % 40}`,
  feature: i % 2 === 0 ? 'a' : 'b',
  value: i,
  eventTime: T0 + i * 1000,
  version: 0,
  availableTime: T0 + i * 1000 + 5,
  outcome: 'applied',
})

/** A memory log of 400 records in 20 appends (runs), so a scan yields many batches. */
async function filled() {
  const log = memoryLog({ features: { a: 'double', b: 'double' } })
  for (let k = 0; k < 20; k++) await log.append(Array.from({ length: 20 }, (_, j) => rec(k * 20 + j)))
  return log
}

const aborted = (reason?: unknown) => {
  const ac = new AbortController()
  ac.abort(reason)
  return ac.signal
}

describe('AbortOptions on the memory log and materialize', () => {
  it('scan and scanRows: aborted before the start reject with AbortedError carrying the reason', async () => {
    const log = await filled()
    const reason = new Error('stop')
    for (const it of [
      log.scan({ features: ['a', 'b'], signal: aborted(reason) }),
      log.scanRows({ features: ['a', 'b'], signal: aborted(reason) }),
    ]) {
      const err = await (async () => {
        for await (const _ of it) throw new Error('yielded a batch')
      })().catch((e: unknown) => e)
      expect(err).toBeInstanceOf(AbortedError)
      expect((err as AbortedError).cause).toBe(reason)
    }
    await log.close()
  })

  it('scan: aborted after the first batch stops at the next one; the log reads everything afterwards', async () => {
    const log = await filled()
    const ac = new AbortController()
    let batches = 0
    const err = await (async () => {
      for await (const _ of log.scan({ features: ['a', 'b'], signal: ac.signal })) {
        batches++
        ac.abort('after one')
      }
    })().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AbortedError)
    expect(batches).toBe(1)
    let rows = 0
    for await (const b of log.scan({ features: ['a', 'b'] })) rows += b.numRows
    expect(rows).toBe(400)
    await log.close()
  })

  it('stateAt: aborted before the start rejects with AbortedError; without a signal it answers', async () => {
    const log = await filled()
    await expect(log.stateAt(T0 + 1e6, { features: ['a'], signal: aborted() })).rejects.toBeInstanceOf(
      AbortedError,
    )
    expect((await log.stateAt(T0 + 1e6, { features: ['a'] })).length).toBe(20)
    await log.close()
  })

  it('materialize: aborted before the start writes nothing; aborted from inside a write stops before the next batch and does not flush', async () => {
    const log = await filled()
    const at = T0 + 1e6
    const sink = collectingSink<FeatureUpdate>()
    let flushes = 0
    const counted = {
      ...sink,
      flush: () => {
        flushes++
        return sink.flush()
      },
    }
    await expect(
      materialize({ log, sink: counted, at, features: ['a', 'b'], signal: aborted() }),
    ).rejects.toBeInstanceOf(AbortedError)
    expect(sink.items).toHaveLength(0)

    const ac = new AbortController()
    const stopping = {
      ...counted,
      write: (b: readonly FeatureUpdate[]) => {
        sink.write(b)
        ac.abort('one batch is enough')
      },
    }
    const err = await materialize({
      log,
      sink: stopping,
      at,
      features: ['a', 'b'],
      batchSize: 5,
      signal: ac.signal,
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AbortedError)
    expect((err as AbortedError).cause).toBe('one batch is enough')
    expect(sink.items).toHaveLength(5) // the batch written before the abort stays written
    expect(flushes).toBe(0)
    // The same call without a signal loads all 40 pairs.
    const full = collectingSink<FeatureUpdate>()
    expect(await materialize({ log, sink: full, at, features: ['a', 'b'] })).toEqual({ records: 40 })
    await log.close()
  })
})
