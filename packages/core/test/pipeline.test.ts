import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { toBatches } from '../src/adapter.js'
import {
  type CheckpointData,
  CheckpointMismatchError,
  callbackSink,
  collectingSink,
  count,
  createPipeline,
  defineFeatures,
  distinctCount,
  type FeatureUpdate,
  hopping,
  last,
  sum,
  tumbling,
  unbounded,
} from '../src/index.js'
import { createOperator } from '../src/internal.js'

interface Ev {
  k: string
  t: number
  v: number
  tag?: string
}

const S = 1000

describe('emission modes', () => {
  it("emit 'tiles' sends each changed tile's full partial, keyed by tileStart", () => {
    const f = defineFeatures<Ev>({
      entity: (e) => e.k,
      eventTime: (e) => e.t,
      features: {
        spend: { window: hopping(4 * S, 2 * S), aggregate: sum(), value: (e) => e.v, emit: 'tiles' },
      },
    })
    const op = createOperator(f)
    const a = op.process([
      { k: 'a', t: 500, v: 1 },
      { k: 'a', t: 2500, v: 2 },
      { k: 'a', t: 900, v: 3 },
    ])
    // A tile's version is the number of its events.
    expect(a.updates.map((u) => [u.tileStart, u.value, u.eventTime, u.version])).toEqual([
      [0, 4, 2500, 2],
      [2000, 2, 2500, 1],
    ])
    // A replay of a tile carries its full state, not an increment: idempotent under CAS.
    const b = op.process([{ k: 'a', t: 2600, v: 5 }])
    expect(b.updates.map((u) => [u.tileStart, u.value, u.eventTime, u.version])).toEqual([[2000, 7, 2600, 2]])
    // Tiles never decay by write: the reader sums the window at read time.
    expect(op.advanceWatermark(100 * S)).toEqual([])
  })

  it('suppressUnchanged drops updates whose value did not change', () => {
    const mk = (suppressUnchanged: boolean) =>
      createOperator(
        defineFeatures<Ev>({
          entity: (e) => e.k,
          eventTime: (e) => e.t,
          features: {
            tags: { window: unbounded(), aggregate: distinctCount(), value: (e) => e.tag, suppressUnchanged },
          },
        }),
      )
    const evs = [
      [{ k: 'a', t: 1, v: 0, tag: 'x' }],
      [{ k: 'a', t: 2, v: 0, tag: 'x' }],
      [{ k: 'a', t: 3, v: 0, tag: 'y' }],
    ]
    const run = (suppress: boolean) => {
      const op = mk(suppress)
      return evs.flatMap((b) => op.process(b).updates.map((u) => [u.value, u.eventTime]))
    }
    expect(run(false)).toEqual([
      [1, 1],
      [1, 2],
      [2, 3],
    ])
    expect(run(true)).toEqual([
      [1, 1],
      [2, 3],
    ])
  })
})

describe('checkpoints', () => {
  const group = () =>
    defineFeatures<Ev>({
      entity: (e) => e.k,
      eventTime: (e) => e.t,
      features: {
        uniq: { window: hopping(6 * S, 2 * S), aggregate: distinctCount(), value: (e) => e.tag },
        lastTag: { window: unbounded(), aggregate: last('string'), value: (e) => e.tag },
        n: { window: tumbling(3 * S), aggregate: count() },
      },
    })
  const stream: Ev[][] = Array.from({ length: 40 }, (_, i) => [
    { k: `e${i % 3}`, t: i * 700, v: i, tag: `t${i % 5}` },
    { k: `e${(i * 7) % 4}`, t: i * 700 - 300, v: i, tag: `t${i % 2}` },
  ])

  it('round-trips through JSON for sets and last values and continues identically', () => {
    const a = createOperator(group(), { watermark: { outOfOrderness: 1000 } })
    const full = stream.map((b) => a.process(b).updates)
    const b1 = createOperator(group(), { watermark: { outOfOrderness: 1000 } })
    const firstHalf = stream.slice(0, 17).map((b) => b1.process(b).updates)
    const snap = JSON.parse(JSON.stringify(b1.snapshot())) as CheckpointData
    const b2 = createOperator(group(), { watermark: { outOfOrderness: 1000 } })
    b2.restore(snap)
    const secondHalf = stream.slice(17).map((b) => b2.process(b).updates)
    expect([...firstHalf, ...secondHalf]).toEqual(full)
    expect(b2.advanceWatermark(Number.POSITIVE_INFINITY)).toEqual(
      a.advanceWatermark(Number.POSITIVE_INFINITY),
    )
  })

  it('refuses a checkpoint taken with other definitions', () => {
    const a = createOperator(group())
    a.process(stream[0] as Ev[])
    const other = createOperator(
      defineFeatures<Ev>({
        entity: (e) => e.k,
        eventTime: (e) => e.t,
        features: { n: { window: tumbling(4 * S), aggregate: count() } },
      }),
    )
    expect(() => other.restore(a.snapshot())).toThrow(CheckpointMismatchError)
  })
})

describe('pipeline.checkpoint()', () => {
  const features = () =>
    defineFeatures<Ev>({
      entity: (e) => e.k,
      eventTime: (e) => e.t,
      features: {
        n: { window: hopping(6 * S, 2 * S), aggregate: count() },
        total: { window: tumbling(4 * S), aggregate: sum(), value: (e) => e.v },
      },
    })
  const events: Ev[] = Array.from({ length: 60 }, (_, i) => ({
    k: `e${i % 4}`,
    t: i * 450 - (i % 3) * 200,
    v: i,
  }))
  const batchesOf = (es: Ev[]) =>
    Array.from({ length: Math.ceil(es.length / 5) }, (_, i) => es.slice(i * 5, i * 5 + 5))
  const watermark = { outOfOrderness: 500 }

  /** A sink that buffers writes until flush(), like an online sink with batches in flight. */
  function bufferingSink() {
    const flushed: FeatureUpdate[] = []
    let buffered: FeatureUpdate[] = []
    return {
      flushed,
      get buffered() {
        return buffered.length
      },
      write(us: readonly FeatureUpdate[]) {
        buffered.push(...us)
      },
      async flush() {
        await new Promise((r) => setTimeout(r, 2))
        flushed.push(...buffered)
        buffered = []
      },
      close: async () => {},
    }
  }

  it('taken mid-run, flushes the sinks first, and a resumed run completes it exactly', async () => {
    const whole = collectingSink<FeatureUpdate>()
    await createPipeline({ source: events, batchSize: 5, features: features(), sink: whole, watermark }).run()

    const sink = bufferingSink()
    let cut: Promise<import('../src/index.js').PipelineCheckpoint> | undefined
    let atCut = { flushed: 0, buffered: -1 }
    async function* src() {
      for (const [i, b] of batchesOf(events).entries()) {
        if (i === 5) {
          cut = p.checkpoint()
          cut.then(() => {
            atCut = { flushed: sink.flushed.length, buffered: sink.buffered }
          })
        }
        await new Promise((r) => setTimeout(r, 1))
        yield b
      }
    }
    const p = createPipeline({ source: src(), features: features(), sink, watermark })
    await p.run()
    const c = JSON.parse(
      JSON.stringify(await (cut as Promise<unknown>)),
    ) as import('../src/index.js').PipelineCheckpoint
    const covered = c.eventsPerSource[0] as number
    expect(covered).toBeGreaterThanOrEqual(25) // the batches before the request
    expect(covered).toBeLessThan(events.length)
    expect(atCut.buffered).toBe(0) // everything the checkpoint covers had reached the sink
    const before = sink.flushed.slice(0, atCut.flushed)

    const rest = collectingSink<FeatureUpdate>()
    const resumed = createPipeline({
      source: events.slice(covered),
      batchSize: 5,
      features: features(),
      sink: rest,
      watermark,
      checkpoint: c.checkpoint,
    })
    await resumed.run()
    // Nothing lost, nothing emitted twice.
    expect([...before, ...rest.items]).toEqual(whole.items)
  })

  it('is served while the source waits for input, and when the pipeline is not running', async () => {
    let release: (() => void) | undefined
    async function* parked() {
      yield [{ k: 'a', t: 1000, v: 1 }]
      await new Promise<void>((r) => {
        release = r
      })
      yield [{ k: 'a', t: 2000, v: 1 }]
    }
    const sink = collectingSink<FeatureUpdate>()
    const p = createPipeline({ source: parked(), features: features(), sink, watermark })
    const run = p.run()
    while (release === undefined) await new Promise((r) => setTimeout(r, 1))
    const c = await p.checkpoint()
    expect(c.eventsPerSource).toEqual([1])
    expect(sink.items.length).toBeGreaterThan(0)
    release()
    await run
    const after = await p.checkpoint()
    expect(after.eventsPerSource).toEqual([2])
    await p.close()
    await expect(p.checkpoint()).rejects.toThrow(/closed/i)
  })

  it('a failing flush rejects the checkpoint, not the run', async () => {
    let fail = true
    const sink = {
      ...collectingSink<FeatureUpdate>(),
      async flush() {
        if (fail) {
          fail = false
          throw new Error('store down')
        }
      },
    }
    let cut: Promise<unknown> | undefined
    async function* src() {
      yield [{ k: 'a', t: 1000, v: 1 }]
      cut = p.checkpoint()
      cut.catch(() => undefined)
      await new Promise((r) => setTimeout(r, 1))
      yield [{ k: 'a', t: 2000, v: 1 }]
    }
    const p = createPipeline({ source: src(), features: features(), sink, watermark })
    const r = await p.run()
    expect(r.ended).toBe('completed')
    await expect(cut).rejects.toThrow('store down')
  })
})

describe('sources and backpressure', () => {
  const counting = () =>
    defineFeatures<Ev>({
      entity: (e) => e.k,
      eventTime: (e) => e.t,
      features: { n: { window: unbounded(), aggregate: count() } },
    })

  it('micro-batches an async source of single events', async () => {
    async function* one() {
      for (let i = 0; i < 10; i++) yield { k: 'a', t: i, v: 1 }
    }
    const sizes: number[] = []
    for await (const b of toBatches(one(), { batchSize: 4 })) sizes.push(b.length)
    expect(sizes).toEqual([4, 4, 2])
  })

  it('processes a partial batch lingerMs after its first event, even while events keep trickling in', async () => {
    async function* trickle() {
      for (let i = 0; i < 20; i++) {
        await new Promise((r) => setTimeout(r, 5))
        yield { k: 'a', t: i, v: 1 }
      }
    }
    const sizes: number[] = []
    for await (const b of toBatches(trickle(), { batchSize: 4096, lingerMs: 30 })) sizes.push(b.length)
    // 20 events over >= 100 ms: a 30 ms deadline from each batch's first event splits them.
    expect(sizes.length).toBeGreaterThan(1)
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(20)
  })

  it('waits for a slow sink before reading more input', async () => {
    let read = 0
    let inFlight = 0
    let maxInFlight = 0
    const slow = callbackSink<FeatureUpdate>(async () => {
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      const readBefore = read
      await new Promise((r) => setTimeout(r, 5))
      // nothing was read from the source while this batch was being written
      expect(read).toBe(readBefore)
      inFlight--
    })
    async function* src() {
      for (let i = 0; i < 5; i++) {
        read++
        yield [{ k: `k${i}`, t: i, v: 1 }]
      }
    }
    const r = await createPipeline({ source: src(), features: counting(), sink: slow }).run()
    expect(r.metrics.updatesOut).toBe(5)
    expect(maxInFlight).toBe(1)
  })

  it("does not keep a batch's updates alive while it processes the next batch", async () => {
    // Holding them made every update of a run survive a young-generation GC and be promoted:
    // old-space garbage, mark-compacts, 2.5x the memory and half the throughput (pnpm bench core).
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    let firstBatch: WeakRef<readonly FeatureUpdate[]> | undefined
    let aliveDuringNext: boolean | undefined
    const sink = callbackSink<FeatureUpdate>((us) => {
      firstBatch ??= new WeakRef(us)
    })
    const f = defineFeatures<Ev>({
      entity: (e) => {
        if (e.k === 'second' && aliveDuringNext === undefined) {
          gc()
          aliveDuringNext = firstBatch?.deref() !== undefined
        }
        return e.k
      },
      eventTime: (e) => e.t,
      features: { n: { window: unbounded(), aggregate: count() } },
    })
    async function* src() {
      yield Array.from({ length: 100 }, (_, i) => ({ k: `first-${i}`, t: i, v: 1 }))
      // A macrotask boundary, so the WeakRef no longer keeps its target alive.
      await new Promise((r) => setTimeout(r, 1))
      yield [{ k: 'second', t: 200, v: 1 }]
    }
    const r = await createPipeline({ source: src(), features: f, sink }).run()
    expect(r.metrics.updatesOut).toBe(101)
    expect(firstBatch).toBeDefined()
    expect(aliveDuringNext).toBe(false)
  })

  it('an ended or idle source does not hold back the watermark of the others', async () => {
    const f = defineFeatures<Ev>({
      entity: (e) => e.k,
      eventTime: (e) => e.t,
      features: { n: { window: tumbling(10 * S), aggregate: count() } },
    })
    const sink = collectingSink<FeatureUpdate>()
    const fast = Array.from({ length: 50 }, (_, i) => ({ k: 'busy', t: i * S, v: 1 }))
    const short = [{ k: 'quiet', t: 0, v: 1 }]
    const p = createPipeline({ sources: [fast, short], features: f, sink, batchSize: 5, drainTo: 'none' })
    await p.run()
    // 'quiet' decayed at 10s although its source ended long before: the watermark kept moving.
    expect(sink.items.filter((u) => u.entity === 'quiet').map((u) => [u.value, u.eventTime])).toEqual([
      [1, 0],
      [0, 10 * S],
    ])
  })

  it('stops on abort, flushing what was processed', async () => {
    const ac = new AbortController()
    const sink = collectingSink<FeatureUpdate>()
    async function* endless() {
      for (let i = 0; ; i++) {
        if (i === 3) ac.abort()
        yield [{ k: 'a', t: i, v: 1 }]
        await new Promise((r) => setTimeout(r, 1))
      }
    }
    const p = createPipeline({ source: endless(), features: counting(), sink, signal: ac.signal })
    const r = await p.run()
    expect(r.ended).toBe('aborted')
    expect(sink.items.length).toBeGreaterThanOrEqual(3)
    await p.close()
    expect(sink.closed).toBe(true)
  })

  /** An iterator like a subscription: next() waits for a message until return() ends the wait. */
  function parkedSource(first: Ev[], onReturn: () => void, failPendingOnReturn = false) {
    let given = false
    let wake: ((r: IteratorResult<Ev[]>) => void) | undefined
    let fail: ((e: Error) => void) | undefined
    const it: AsyncIterator<Ev[]> & AsyncIterable<Ev[]> = {
      [Symbol.asyncIterator]: () => it,
      next: () => {
        if (!given) {
          given = true
          return Promise.resolve({ done: false, value: first })
        }
        return new Promise((resolve, reject) => {
          wake = resolve
          fail = reject
        })
      },
      return: () => {
        onReturn()
        if (failPendingOnReturn) fail?.(new Error('subscription closed'))
        else wake?.({ done: true, value: undefined })
        return Promise.resolve({ done: true, value: undefined })
      },
    }
    return it
  }

  it('on abort, tells a source parked in next() to stop, so it can release what it holds', async () => {
    const ac = new AbortController()
    let returns = 0
    const sink = collectingSink<FeatureUpdate>()
    const source = parkedSource([{ k: 'a', t: 0, v: 1 }], () => returns++)
    const p = createPipeline({ source, features: counting(), sink, signal: ac.signal })
    const run = p.run()
    while (sink.items.length === 0) await new Promise((r) => setTimeout(r, 1))
    ac.abort()
    const r = await run
    expect(r.ended).toBe('aborted')
    expect(sink.items.map((u) => u.value)).toEqual([1])
    await new Promise((r) => setTimeout(r, 5))
    expect(returns).toBe(1)
  })

  it('a pending read that fails after the run was aborted is not an unhandled rejection', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (e: unknown) => unhandled.push(e)
    process.on('unhandledRejection', onUnhandled)
    try {
      const ac = new AbortController()
      const sink = collectingSink<FeatureUpdate>()
      const source = parkedSource([{ k: 'a', t: 0, v: 1 }], () => {}, true)
      const p = createPipeline({ source, features: counting(), sink, signal: ac.signal })
      const run = p.run()
      while (sink.items.length === 0) await new Promise((r) => setTimeout(r, 1))
      ac.abort()
      expect((await run).ended).toBe('aborted')
      await new Promise((r) => setTimeout(r, 20))
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  it('toBatches on abort still yields every event it read, even one that arrives after the abort', async () => {
    const ac = new AbortController()
    let returns = 0
    let deliver: ((r: IteratorResult<Ev>) => void) | undefined
    const queue: Ev[] = [
      { k: 'a', t: 0, v: 1 },
      { k: 'b', t: 1, v: 1 },
    ]
    // Like an async generator: return() does not end a pending next(), which still delivers.
    const single: AsyncIterableIterator<Ev> = {
      [Symbol.asyncIterator]: () => single,
      next: () => {
        const e = queue.shift()
        if (e) return Promise.resolve({ done: false, value: e })
        return new Promise((resolve) => {
          deliver = resolve
        })
      },
      return: () => {
        returns++
        return Promise.resolve({ done: true, value: undefined })
      },
    }
    const batches = toBatches(single, { signal: ac.signal, lingerMs: 60_000 })
    const first = batches.next()
    await new Promise((r) => setTimeout(r, 5))
    ac.abort()
    expect(returns).toBe(1)
    deliver?.({ done: false, value: { k: 'c', t: 2, v: 1 } })
    expect(((await first).value as Ev[]).map((e) => e.k)).toEqual(['a', 'b', 'c'])
    expect(await batches.next()).toEqual({ done: true, value: undefined })
    expect(returns).toBe(1)
  })

  it('toBatches stops at once when its signal is aborted and returns the iterator once', async () => {
    let returns = 0
    const ac = new AbortController()
    const source = parkedSource([{ k: 'a', t: 0, v: 1 }], () => returns++)
    const batches = toBatches(source, { signal: ac.signal })
    expect((await batches.next()).value).toEqual([{ k: 'a', t: 0, v: 1 }])
    const parked = batches.next()
    ac.abort()
    expect(await parked).toEqual({ done: true, value: undefined })
    expect(returns).toBe(1)
  })
})
