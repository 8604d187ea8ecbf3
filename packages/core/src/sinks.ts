import { ClosedError } from './errors.js'
import type { Sink } from './types.js'

/** An in-memory sink that keeps every item, for tests and small programs. */
export interface CollectingSink<T> extends Sink<T> {
  /** Everything written so far, in order. */
  readonly items: T[]
  /** Whether `close()` was called. */
  readonly closed: boolean
  /** Forget the collected items. */
  clear(): void
}

/** Create a sink that collects every item in memory. */
export function collectingSink<T>(): CollectingSink<T> {
  const items: T[] = []
  let closed = false
  return {
    items,
    get closed() {
      return closed
    },
    write(batch) {
      if (closed) throw new ClosedError('collectingSink', 'core')
      for (let i = 0; i < batch.length; i++) items.push(batch[i] as T)
    },
    async flush() {},
    async close() {
      closed = true
    },
    clear() {
      items.length = 0
    },
  }
}

/** A sink that calls `fn` for every batch (it may return a promise to apply backpressure). */
export function callbackSink<T>(fn: (batch: readonly T[]) => void | Promise<void>): Sink<T> {
  let closed = false
  return {
    write(batch) {
      if (closed) throw new ClosedError('callbackSink', 'core')
      return fn(batch)
    },
    async flush() {},
    async close() {
      closed = true
    },
  }
}

/**
 * A sink that writes every batch to all `sinks` in order, awaiting each one that returns a promise
 * (so the slowest sink sets the pace).
 */
export function teeSink<T>(...sinks: Sink<T>[]): Sink<T> {
  return {
    write(batch) {
      for (let i = 0; i < sinks.length; i++) {
        const r = (sinks[i] as Sink<T>).write(batch)
        if (r) return continueTee(sinks, batch, i + 1, r)
      }
      return undefined
    },
    async flush() {
      for (const s of sinks) await s.flush()
    },
    async close() {
      for (const s of sinks) await s.close()
    },
  }
}

async function continueTee<T>(sinks: Sink<T>[], batch: readonly T[], from: number, pending: Promise<void>) {
  await pending
  for (let i = from; i < sinks.length; i++) await (sinks[i] as Sink<T>).write(batch)
}
