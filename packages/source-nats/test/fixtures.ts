/** Streams, publishers and readers shared by the source tests. */
import { type JetStreamClient, jetstreamManager, StorageType } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import type { PositionedBatch, ResumableSource, SourcePosition } from '@skewless/core'

/** Create a file-stored stream. */
export async function createStream(nc: NatsConnection, name: string, subjects: string[]): Promise<void> {
  const jsm = await jetstreamManager(nc)
  await jsm.streams.add({ name, subjects, storage: StorageType.File })
}

/** A JSON click: the payload every test publishes. */
export interface Click {
  user: string
  n: number
}

/**
 * Publish `count` clicks numbered from `first` (subject from `subjectOf`), 100 in flight at a
 * time; each carries a message id, so a retried publish is stored once.
 */
export async function publishClicks(
  js: JetStreamClient,
  first: number,
  count: number,
  subjectOf: (n: number) => string,
  userOf: (n: number) => string = (n) => `u${n % 7}`,
): Promise<void> {
  const window: Promise<unknown>[] = []
  for (let n = first; n < first + count; n++) {
    const click: Click = { user: userOf(n), n }
    window.push(publishRetrying(js, subjectOf(n), JSON.stringify(click), `click-${n}`))
    if (window.length === 100) await Promise.all(window.splice(0))
  }
  await Promise.all(window)
}

/** Publish until the server acknowledges (it may be down for a while); the id dedupes retries. */
export async function publishRetrying(
  js: JetStreamClient,
  subject: string,
  data: string,
  id: string,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await js.publish(subject, data, { msgID: id, timeout: 2000 })
      return
    } catch (err) {
      if (attempt > 100) throw err
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

/** What a reader saw. */
export interface Read<E> {
  batches: PositionedBatch<E>[]
  events: E[]
  /** Position of the last batch (or the `from` it started at). */
  position: SourcePosition | undefined
}

/**
 * Open `source` from `from` and read until `count` events arrived, then abort. `onBatch` runs
 * after each batch (a slow consumer, a server kill).
 */
export async function readEvents<E>(
  source: ResumableSource<E>,
  from: SourcePosition | undefined,
  count: number,
  onBatch?: (b: PositionedBatch<E>, seen: number) => Promise<void> | void,
): Promise<Read<E>> {
  const ac = new AbortController()
  const read: Read<E> = { batches: [], events: [], position: from }
  if (count === 0) return read
  for await (const b of source.open(from, { signal: ac.signal })) {
    read.batches.push(b)
    for (const e of b.events) read.events.push(e)
    read.position = b.position
    await onBatch?.(b, read.events.length)
    if (read.events.length >= count) break
  }
  ac.abort()
  return read
}

export { DeliverPolicy, jetstream } from '@nats-io/jetstream'
