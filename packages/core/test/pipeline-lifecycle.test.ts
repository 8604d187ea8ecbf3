import { describe, expect, it } from 'vitest'
import {
  AbortedError,
  ClosedError,
  collectingSink,
  count,
  createPipeline,
  defineFeatures,
  type FeatureUpdate,
  type Sink,
  tumbling,
} from '../src/index.js'

interface Ev {
  k: string
  t: number
}

const features = () =>
  defineFeatures<Ev>({
    entity: (e) => e.k,
    eventTime: (e) => e.t,
    features: { n: { window: tumbling(1000), aggregate: count() } },
  })
const events: Ev[] = Array.from({ length: 50 }, (_, i) => ({ k: `e${i % 5}`, t: i * 100 }))

/** A sink whose flush and close wait until `release()` (a store that stays down). */
function stuckSink() {
  const inner = collectingSink<FeatureUpdate>()
  let open!: () => void
  const gate = new Promise<void>((r) => {
    open = r
  })
  const calls = { flush: 0, close: 0 }
  const sink: Sink<FeatureUpdate> = {
    write: (b) => inner.write(b),
    flush: async () => {
      calls.flush++
      await gate
    },
    close: async () => {
      calls.close++
      await gate
    },
  }
  return { sink, calls, release: () => open(), items: inner.items }
}

const abortSoon = (reason: unknown, ms = 20) => {
  const ac = new AbortController()
  setTimeout(() => ac.abort(reason), ms)
  return ac.signal
}

describe('pipeline: AbortOptions', () => {
  it('run({ signal }) stops the run gracefully: ended is aborted, what was processed is flushed', async () => {
    const ac = new AbortController()
    async function* src() {
      yield events.slice(0, 10)
      ac.abort()
      await new Promise((r) => setTimeout(r, 5))
      yield events.slice(10)
    }
    const sink = collectingSink<FeatureUpdate>()
    const p = createPipeline({ source: src(), features: features(), logger: false, sink })
    const r = await p.run({ signal: ac.signal })
    expect(r.ended).toBe('aborted')
    expect(r.metrics.eventsIn).toBe(10)
    await p.close()
  })

  it('flush({ signal }): aborted before, it calls no sink; aborted while a sink waits, it rejects with AbortedError (cause = reason)', async () => {
    const s = stuckSink()
    const p = createPipeline({ source: events, features: features(), logger: false, sink: s.sink })
    const pre = new AbortController()
    pre.abort('before')
    await expect(p.flush({ signal: pre.signal })).rejects.toBeInstanceOf(AbortedError)
    expect(s.calls.flush).toBe(0)
    const err = await p.flush({ signal: abortSoon('waited enough') }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AbortedError)
    expect((err as AbortedError).cause).toBe('waited enough')
    expect(s.calls.flush).toBe(1)
    s.release()
    await p.flush() // the sink is usable again
    await p.close()
  })

  it('close({ signal }): aborted while a sink will not close, it rejects with AbortedError and the pipeline is closed all the same', async () => {
    const s = stuckSink()
    const p = createPipeline({ source: events, features: features(), logger: false, sink: s.sink })
    const err = await p.close({ signal: abortSoon('shutdown deadline') }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AbortedError)
    expect((err as AbortedError).cause).toBe('shutdown deadline')
    await expect(p.run()).rejects.toBeInstanceOf(ClosedError)
    await p.close() // idempotent: resolves
    s.release()
  })

  it('checkpoint({ signal }): aborted before it rejects at once; aborted while its flush waits it rejects, and the run goes on', async () => {
    const s = stuckSink()
    let release: (() => void) | undefined
    async function* parked() {
      yield events.slice(0, 10)
      await new Promise<void>((r) => {
        release = r
      })
      yield events.slice(10)
    }
    const p = createPipeline({ source: parked(), features: features(), logger: false, sink: s.sink })
    const pre = new AbortController()
    pre.abort()
    await expect(p.checkpoint({ signal: pre.signal })).rejects.toBeInstanceOf(AbortedError)
    const run = p.run()
    while (release === undefined) await new Promise((r) => setTimeout(r, 1))
    const err = await p.checkpoint({ signal: abortSoon('no time') }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AbortedError)
    expect((err as AbortedError).cause).toBe('no time')
    s.release()
    release()
    const r = await run
    expect(r.metrics.eventsIn).toBe(50)
    expect((await p.checkpoint()).eventsPerSource).toEqual([50])
    await p.close()
  })
})

describe('pipeline.metrics()', () => {
  it('is a snapshot; the deprecated property form reads the same counters', async () => {
    const sink = collectingSink<FeatureUpdate>()
    const p = createPipeline({ source: events, features: features(), logger: false, sink })
    const before = p.metrics()
    expect(before.eventsIn).toBe(0)
    await p.run()
    expect(before.eventsIn).toBe(0) // a snapshot does not move
    const m = p.metrics()
    expect(m.eventsIn).toBe(50)
    expect(p.metrics.eventsIn).toBe(50)
    expect(p.metrics.updatesOut).toBe(m.updatesOut)
    expect({ ...p.metrics }).toEqual(m) // the old form spreads to the same object
    expect(JSON.parse(JSON.stringify(m))).toMatchObject({ eventsIn: 50, batches: m.batches })
    await p.close()
  })
})
