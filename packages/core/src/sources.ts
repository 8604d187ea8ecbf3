/**
 * Sources are `AsyncIterable`s (or plain iterables such as arrays). They may yield single events
 * or arrays of events (micro-batches); either way the pipeline works on micro-batches, so the
 * async overhead is paid per batch, not per event. Events themselves must not be arrays.
 */

import { durationOption } from './duration.js'
import type { Duration } from './types.js'

/** Something the pipeline can read events from. */
export type Source<E> = Iterable<E> | AsyncIterable<E | readonly E[]>

/** Options for turning a source into micro-batches. */
export interface BatchingOptions {
  /** Largest micro-batch. @default 4096 */
  batchSize?: number
  /**
   * For async sources that yield single events: how long (real time) a partial batch may wait, from
   * its first event, before it is processed, however steadily more events arrive. @default '20ms'
   */
  linger?: Duration
  /** @deprecated Use `linger` (a `Duration`). */
  lingerMs?: number
  /**
   * Ends the batches early: on abort the underlying async iterator's `return()` is called at once,
   * even while a `next()` is pending, so an iterator parked waiting for its next message (a
   * subscription, a socket) can end that wait and release what it holds. Events already read are
   * still yielded; nothing more is read. An `async function*` parked on an `await` still finishes
   * that await first: that is how generators work.
   */
  signal?: AbortSignal
}

/**
 * Normalize a source to an async iterator of non-empty micro-batches.
 * Arrays and other sync iterables are sliced without awaiting between events; async sources
 * yielding arrays pass them through (split when larger than `batchSize`).
 */
export async function* toBatches<E>(source: Source<E>, options: BatchingOptions = {}): AsyncGenerator<E[]> {
  const size = options.batchSize ?? 4096
  const lingerMs =
    durationOption('toBatches', 'linger', options.linger, 'lingerMs', options.lingerMs).ms ?? 20
  if (Array.isArray(source)) {
    for (let i = 0; i < source.length; i += size) yield source.slice(i, i + size)
    return
  }
  if (isSyncIterable(source)) {
    let batch: E[] = []
    for (const e of source) {
      batch.push(e)
      if (batch.length >= size) {
        yield batch
        batch = []
      }
    }
    if (batch.length > 0) yield batch
    return
  }
  const it = (source as AsyncIterable<E | readonly E[]>)[Symbol.asyncIterator]()
  const signal = options.signal
  // The iterator is returned once: on abort (without waiting for a pending next()) or at the end.
  let returned = false
  const end = () => {
    if (returned) return undefined
    returned = true
    return it.return?.()
  }
  const onAbort = () => {
    // Nobody awaits this: a failure of the source's own cleanup after an abort is not the run's.
    Promise.resolve(end()).catch(() => undefined)
  }
  signal?.addEventListener('abort', onAbort, { once: true })
  let batch: E[] = []
  let pending: Promise<IteratorResult<E | readonly E[]>> | undefined
  // One deadline per partial batch, from its first event: a steady trickle of events must not
  // keep postponing it (a batch would then wait for `batchSize` events however long that takes).
  let linger: Promise<'linger'> | undefined
  let lingerTimer: ReturnType<typeof setTimeout> | undefined
  const take = (): E[] => {
    if (lingerTimer !== undefined) clearTimeout(lingerTimer)
    linger = undefined
    lingerTimer = undefined
    const b = batch
    batch = []
    return b
  }
  try {
    for (;;) {
      if (signal?.aborted) break
      pending ??= it.next()
      let r: IteratorResult<E | readonly E[]> | 'linger'
      if (batch.length > 0) {
        linger ??= new Promise((resolve) => {
          lingerTimer = setTimeout(() => resolve('linger'), lingerMs)
          lingerTimer.unref?.()
        })
        r = await Promise.race([pending, linger])
        if (r === 'linger') {
          yield take()
          continue
        }
      } else r = await pending
      pending = undefined
      if (r.done) break
      const v = r.value
      if (Array.isArray(v)) {
        if (batch.length > 0) yield take()
        if (v.length === 0) continue
        if (v.length <= size) yield v as E[]
        else for (let i = 0; i < v.length; i += size) yield v.slice(i, i + size) as E[]
      } else {
        batch.push(v as E)
        if (batch.length >= size) yield take()
      }
    }
    if (batch.length > 0) yield take()
  } finally {
    signal?.removeEventListener('abort', onAbort)
    if (lingerTimer !== undefined) clearTimeout(lingerTimer)
    await end()
  }
}

function isSyncIterable<E>(s: unknown): s is Iterable<E> {
  return s !== null && typeof s === 'object' && typeof (s as Iterable<E>)[Symbol.iterator] === 'function'
}
