// Every update ends in exactly one place, whatever the interleaving of writes, flushes, closes,
// aborts, store failures and output failures: acknowledged (downstream), dead-lettered, or
// coalesced into a newer update of its key (after an output failure: at most one place). Every
// write, flush and close settles; a flush or close that resolves does so once the updates written
// before it have their outcome; nothing runs on after close(); no listener stays on a signal.
import { getEventListeners } from 'node:events'
import { collectingSink, type FeatureUpdate, type FeatureWrite, type Sink, tumbling } from '@skewless/core'
import fc from 'fast-check'
import { expect, it } from 'vitest'
import type { ApplyResult } from '../src/adapter.js'
import {
  memoryStore,
  type OnlineDeadLetter,
  type OnlineFeatureConfig,
  type OnlineStore,
  onlineSink,
  StoreUnavailableError,
  StoreWriteError,
} from '../src/index.js'
import { tick } from './faulty-store.js'

const FEATS: OnlineFeatureConfig[] = [
  { name: 'score', valueType: 'double', strategy: 'cas' },
  { name: 'lbl', valueType: 'double', strategy: 'upsert' },
  { name: 'clk', valueType: 'int64', strategy: 'additive', window: tumbling('10m') },
]

type Behaviour = 'ok' | 'transient' | 'lostAck' | 'permanent' | 'partial' | 'slow' | 'hang'

type Op =
  | { op: 'write'; keys: number[]; feat: number }
  | { op: 'flush'; sig: number }
  | { op: 'close'; sig: number }
  | { op: 'abort'; sig: number }
  | { op: 'tick'; ms: number }
  | { op: 'release' }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('write' as const),
      keys: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }),
      feat: fc.integer({ min: 0, max: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('flush' as const), sig: fc.integer({ min: -1, max: 1 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('close' as const), sig: fc.integer({ min: -1, max: 1 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('abort' as const), sig: fc.integer({ min: 0, max: 1 }) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 3 }) }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('release' as const) }) },
)

const behaviourArb = fc.constantFrom<Behaviour>(
  'ok',
  'transient',
  'lostAck',
  'permanent',
  'partial',
  'slow',
  'hang',
)

function scriptedStore(script: Behaviour[]) {
  const inner = memoryStore()
  let gate: { p: Promise<void>; open: () => void } | undefined
  const state = { healthy: false, calls: 0 }
  const hold = () => {
    if (gate === undefined) {
      let open = (): void => {}
      const p = new Promise<void>((r) => (open = r))
      gate = { p, open }
    }
    return gate.p
  }
  const store: OnlineStore = {
    ...inner,
    async apply(writes, features): Promise<ApplyResult> {
      state.calls++
      const b = state.healthy ? 'ok' : (script.shift() ?? 'ok')
      switch (b) {
        case 'transient':
          throw new StoreUnavailableError('down', { store: 'test' })
        case 'permanent':
          throw new StoreWriteError('script-error', 'boom')
        case 'lostAck':
          await inner.apply(writes, features)
          throw new StoreUnavailableError('lost ack', { store: 'test' })
        case 'partial': {
          const res = await inner.apply(writes.slice(1), features)
          return { outcomes: [{ reason: 'wrong-type', message: 'bad' }, ...res.outcomes] }
        }
        case 'slow':
          await tick(2)
          return inner.apply(writes, features)
        case 'hang':
          await hold()
          return inner.apply(writes, features)
        default:
          return inner.apply(writes, features)
      }
    },
  }
  return {
    store,
    state,
    release: () => {
      gate?.open()
      gate = undefined
    },
  }
}

/** `inner`, taking each batch a timer tick later. */
function slow<T>(inner: Sink<T>): Sink<T> {
  return {
    write: async (b) => {
      await tick(1)
      await inner.write(b)
    },
    flush: () => inner.flush(),
    close: () => inner.close(),
  }
}

/** `inner`, failing on its `n`-th write (never when 0). */
function failing<T>(inner: Sink<T>, n: number): Sink<T> {
  let k = 0
  return {
    write: (b) => (++k === n ? Promise.reject(new Error('disk full')) : inner.write(b)),
    flush: () => inner.flush(),
    close: () => inner.close(),
  }
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)
  })
  return Promise.race([p, late]).finally(() => clearTimeout(timer))
}

interface Options {
  maxBatch: number
  inFlight: number
  linger: number
  buffered: number
  timeoutMs: number
  slowDown: boolean
  slowDead: boolean
  downFails: number
  retries: number
}

/** One run: apply `ops` to a sink over a store following `script`, then check where every update ended. */
async function run(ops: Op[], script: Behaviour[], o: Options): Promise<void> {
  const { store, state, release } = scriptedStore(script)
  const down = collectingSink<FeatureWrite>()
  const dead = collectingSink<OnlineDeadLetter>()
  const sink = onlineSink({
    store,
    features: FEATS,
    downstream: failing(o.slowDown ? slow(down) : down, o.downFails),
    deadLetters: o.slowDead ? slow(dead) : dead,
    maxBatchSize: o.maxBatch,
    maxInFlightBatches: o.inFlight,
    lingerMs: o.linger,
    maxBufferedUpdates: o.buffered,
    timeoutMs: o.timeoutMs,
    retry: { minDelayMs: 0, maxDelayMs: 2, retries: o.retries },
  })
  const signals = [new AbortController(), new AbortController()]
  const accepted: FeatureUpdate[] = []
  const settled: Promise<unknown>[] = []
  const problems: string[] = []
  const outcomeIds = () => {
    const ids = new Set<number>()
    for (const w of down.items) ids.add(w.value as number)
    for (const d of dead.items) ids.add(d.update.value as number)
    return ids
  }
  const keyOf = (u: FeatureUpdate) => `${u.feature}/${u.entity}/${u.tileStart}`
  let id = 0
  let closed = false
  for (const op of ops) {
    if (op.op === 'write') {
      const feature = FEATS[op.feat]?.name ?? 'unknown'
      const batch = op.keys.map((k): FeatureUpdate => {
        id++
        const u: FeatureUpdate = {
          entity: `k${k}`,
          feature,
          value: id,
          eventTime: 1000 + id,
          version: 0,
        }
        if (feature === 'clk') u.tileStart = (k % 2) * 600_000
        return u
      })
      const n = sink.metrics().updates
      const r = sink.write(batch)
      if (sink.metrics().updates > n) accepted.push(...batch)
      if (r) settled.push(r.catch(() => {}))
    } else if (op.op === 'flush' || op.op === 'close') {
      const signal = op.sig >= 0 ? signals[op.sig]?.signal : undefined
      const before = accepted.slice()
      const p = op.op === 'flush' ? sink.flush({ signal }) : sink.close({ signal })
      if (op.op === 'close') closed = true
      const what = op.op
      settled.push(
        p.then(
          () => {
            // The barrier: each key's last update before the call (or one that replaced it) has its outcome.
            const ids = outcomeIds()
            const last = new Map<string, number>()
            for (const u of before) last.set(keyOf(u), u.value as number)
            for (const [k, v] of last) {
              const ok = accepted.some(
                (u) => keyOf(u) === k && (u.value as number) >= v && ids.has(u.value as number),
              )
              if (!ok) problems.push(`${what}() resolved before update ${v} of ${k} had an outcome`)
            }
          },
          () => {},
        ),
      )
    } else if (op.op === 'abort') {
      signals[op.sig]?.abort(new Error(`abort ${op.sig}`))
    } else if (op.op === 'tick') {
      await tick(op.ms)
    } else release()
  }
  state.healthy = true
  release()
  if (!closed) settled.push(sink.close().catch(() => {}))
  await within(Promise.all(settled), 3000, 'every write, flush and close to settle')
  const calls = state.calls
  await tick(5)
  expect(state.calls).toBe(calls) // nothing keeps running after close()
  expect(problems).toEqual([])
  const downIds = down.items.map((w) => w.value as number)
  const deadIds = dead.items.map((d) => d.update.value as number)
  const all = [...downIds, ...deadIds]
  expect(new Set(all).size).toBe(all.length) // nothing twice, nothing in both
  const m = sink.metrics()
  expect(m.updates).toBe(accepted.length)
  const st = (sink as unknown as { sink: { pendingCount: number; inFlightUpdates: number; fatal: unknown } })
    .sink
  expect(st.pendingCount).toBeGreaterThanOrEqual(0)
  expect(st.inFlightUpdates).toBeGreaterThanOrEqual(0)
  expect(m.inFlightBatches).toBeGreaterThanOrEqual(0)
  if (st.fatal === undefined) {
    expect(all.length + m.coalesced).toBe(accepted.length)
    expect([st.pendingCount, st.inFlightUpdates, m.inFlightBatches]).toEqual([0, 0, 0])
  } else expect(all.length + m.coalesced).toBeLessThanOrEqual(accepted.length)
  for (const c of signals) expect(getEventListeners(c.signal, 'abort')).toHaveLength(0)
  await tick(5)
}

it('every update ends acknowledged, dead-lettered or coalesced, exactly once; every flush settles after its updates', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(opArb, { minLength: 1, maxLength: 25 }),
      fc.array(behaviourArb, { maxLength: 12 }),
      fc.record({
        maxBatch: fc.integer({ min: 1, max: 3 }),
        inFlight: fc.integer({ min: 1, max: 3 }),
        linger: fc.integer({ min: 0, max: 2 }),
        buffered: fc.integer({ min: 1, max: 6 }),
        timeoutMs: fc.constantFrom(0, 3),
        slowDown: fc.boolean(),
        slowDead: fc.boolean(),
        /** The downstream fails on its n-th write (0: never). */
        downFails: fc.integer({ min: 0, max: 4 }),
        retries: fc.constantFrom(Number.POSITIVE_INFINITY, 0, 2),
      }),
      run,
    ),
    { numRuns: 200 },
  )
}, 120_000)
