/** A store wrapper for sink tests: records calls, injects transient/permanent failures, delays and gates. */
import type { FeatureUpdate } from '@skewless/core'
import type { ApplyResult } from '../src/adapter.js'
import type { OnlineStore } from '../src/index.js'

export interface FaultyStore extends OnlineStore {
  /** Every apply call's writes, in call order (copies). */
  readonly calls: FeatureUpdate[][]
  /** Apply calls started but not answered yet. */
  readonly inFlight: number
  /** Max `inFlight` ever seen. */
  readonly maxInFlight: number
  /** The next `n` apply calls reject with `make()` without touching the store. */
  failNext(n: number, make: () => unknown): void
  /** The next `n` apply calls apply to the store, then reject with `make()` (a lost acknowledgement). */
  failAfterApplyNext(n: number, make: () => unknown): void
  /** The next `n` apply calls answer after `ms` (the write lands at call time). */
  delayNext(n: number, ms: number): void
  /** Hold every apply call until `release()`. */
  hold(): void
  /** Let held calls (and later ones) through. */
  release(): void
  /** Called right before each answer is returned (e.g. to move a manual clock). */
  onAnswer?: (writes: readonly FeatureUpdate[]) => void
}

export function faultyStore(inner: OnlineStore): FaultyStore {
  const calls: FeatureUpdate[][] = []
  let inFlight = 0
  let maxInFlight = 0
  const fail: (() => unknown)[] = []
  const failAfter: (() => unknown)[] = []
  const delays: number[] = []
  let gate: Promise<void> | undefined
  let open: (() => void) | undefined
  const self: FaultyStore = {
    name: `faulty-${inner.name}`,
    capabilities: inner.capabilities,
    calls,
    get inFlight() {
      return inFlight
    },
    get maxInFlight() {
      return maxInFlight
    },
    async apply(writes, features): Promise<ApplyResult> {
      calls.push(writes.map((w) => ({ ...w })))
      inFlight++
      if (inFlight > maxInFlight) maxInFlight = inFlight
      try {
        if (gate) await gate
        const f = fail.shift()
        if (f) throw f()
        const res = await inner.apply(writes, features)
        const fa = failAfter.shift()
        if (fa) throw fa()
        const d = delays.shift()
        if (d !== undefined) await new Promise((r) => setTimeout(r, d))
        self.onAnswer?.(writes)
        return res
      } finally {
        inFlight--
      }
    },
    read: (e, f) => inner.read(e, f),
    close: () => inner.close(),
    failNext(n, make) {
      for (let i = 0; i < n; i++) fail.push(make)
    },
    failAfterApplyNext(n, make) {
      for (let i = 0; i < n; i++) failAfter.push(make)
    },
    delayNext(n, ms) {
      for (let i = 0; i < n; i++) delays.push(ms)
    },
    hold() {
      if (!gate) gate = new Promise((r) => (open = r))
    },
    release() {
      open?.()
      gate = undefined
      open = undefined
    },
  }
  return self
}

/** Let pending microtasks and timers of 0 ms run. */
export function tick(ms = 0): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
