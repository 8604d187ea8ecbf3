/**
 * Resumable sources over data the caller can read again from an offset: an array, a file of
 * records, any `(from) => iterable`. The position is the number of events before the next one, so a
 * pipeline resumed from a committed checkpoint reads exactly what follows it.
 */
import type { PositionedBatch, ResumableSource, SourcePosition } from './checkpoint-types.js'
import { InvalidDefinitionError } from './errors.js'
import { type Source, toBatches } from './sources.js'

/** Options of `offsetSource` and `arraySource`. */
export interface OffsetSourceOptions {
  /** Events per batch. Batch boundaries are fixed offsets from 0, so a replay forms the same batches. @default 4096 */
  batchSize?: number
}

/** Check and decode an offset position: a whole number >= 0, or `undefined` for the start. */
export function offsetOf(name: string, from: SourcePosition | undefined): number {
  if (from === undefined || from === null) return 0
  if (typeof from !== 'number' || !Number.isSafeInteger(from) || from < 0) {
    throw new InvalidDefinitionError(
      `core: source '${name}': position ${JSON.stringify(from)} is not an event offset (a whole number >= 0); was the checkpoint taken with another source?`,
    )
  }
  return from
}

/**
 * A resumable source whose position is an event offset. `read(from)` must yield the events from
 * offset `from` on, the same events in the same order on every call (a replayable stream).
 * Batches end at multiples of `batchSize`, so a resumed run processes the same micro-batches as an
 * uninterrupted one and emits the same updates.
 */
export function offsetSource<E>(
  name: string,
  read: (from: number) => Source<E>,
  options: OffsetSourceOptions = {},
): ResumableSource<E> {
  const size = options.batchSize ?? 4096
  if (!Number.isSafeInteger(size) || size < 1) {
    throw new InvalidDefinitionError(
      `core: source '${name}': batchSize must be a whole number >= 1, got ${size}`,
    )
  }
  return {
    name,
    async *open(from, { signal }): AsyncGenerator<PositionedBatch<E>> {
      let offset = offsetOf(name, from)
      // Re-align to the fixed batch grid: a position is always a batch end, except after a
      // source that ended mid-batch grew later.
      let pending: E[] = []
      const flushAt = () => size - (offset % size)
      for await (const batch of toBatches(read(offset), { batchSize: size, signal })) {
        for (let i = 0; i < batch.length; i++) {
          pending.push(batch[i] as E)
          if (pending.length === flushAt()) {
            offset += pending.length
            yield { events: pending, position: offset }
            pending = []
          }
        }
        if (signal.aborted) break
      }
      if (pending.length > 0 && !signal.aborted) {
        offset += pending.length
        yield { events: pending, position: offset }
      }
    },
  }
}

/** A resumable source over an array (tests, examples, files read into memory). */
export function arraySource<E>(
  name: string,
  events: readonly E[],
  options: OffsetSourceOptions = {},
): ResumableSource<E> {
  return offsetSource(name, (from) => events.slice(from), options)
}

/** Whether `s` is a `ResumableSource` (it has a name and `open`), as opposed to a plain iterable. */
export function isResumableSource<E>(s: unknown): s is ResumableSource<E> {
  return (
    s !== null &&
    typeof s === 'object' &&
    typeof (s as ResumableSource<E>).open === 'function' &&
    typeof (s as ResumableSource<E>).name === 'string'
  )
}
