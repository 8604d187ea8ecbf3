/**
 * One `open()` of a source: an ordered JetStream consumer from a stream sequence, feeding a
 * `BatchBuffer` through the client's message callback, paused (consumer closed) when the pipeline
 * falls `maxBufferedMessages` behind and recreated from the next sequence when it catches up.
 */
import {
  type Consumer,
  type ConsumerMessages,
  type JetStreamClient,
  type JsMsg,
  jetstream,
} from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { BatchBuffer, type TakenBatch } from './batch-buffer.js'
import { checkRetention, createConsumer } from './consumer.js'
import type { ReaderSettings } from './settings.js'
import { watchConnection, watchConsumer } from './watch.js'

const PULL_EXPIRES_MS = 5000

/** Reads one source from one start sequence until `close()`. */
export class Reader<E> {
  readonly buffer: BatchBuffer<E>
  private readonly js: JetStreamClient
  private failure: Error | undefined
  private closed = false
  private paused = false
  private gen = 0
  private messages: ConsumerMessages | undefined
  private consumer: Consumer | undefined
  private readonly retiring = new Set<Promise<unknown>>()
  private readonly stopWatch: () => void
  /** Aborted by the caller's signal or by `close()`: ends consumer-creation retries either way. */
  private readonly lifetime = new AbortController()

  constructor(
    private readonly s: ReaderSettings<E>,
    private readonly nc: NatsConnection,
    startSeq: number,
    private readonly signal: AbortSignal,
  ) {
    this.buffer = new BatchBuffer(startSeq, s.decoder, s.metrics)
    this.js = jetstream(nc)
    this.stopWatch = watchConnection(
      nc,
      s,
      (err) => this.fail(err),
      () => this.restartConsumer(),
    )
    signal.addEventListener('abort', this.onAbort, { once: true })
    if (signal.aborted) this.lifetime.abort()
  }

  /**
   * Create the first consumer; rejects when it cannot be created (missing stream, bad filter,
   * outage). `resumed`: the start sequence comes from a position, so check the stream still has it.
   */
  async start(resumed: boolean): Promise<void> {
    const startSeq = this.buffer.lastSeq + 1
    await this.startConsumer()
    if (resumed) await checkRetention(this.js, this.s, startSeq)
  }

  /** The next batch, or `undefined` once aborted. Rejects with the reader's failure. */
  async next(): Promise<TakenBatch<E> | undefined> {
    const { batchSize, maxWaitMs } = this.s
    const buffer = this.buffer
    while (true) {
      if (this.failure !== undefined) throw this.failure
      if (this.signal.aborted) return undefined
      const held = buffer.eventCount
      if (held >= batchSize) return this.take()
      if (held > 0) {
        const left = buffer.lingerLeftMs(maxWaitMs)
        if (left <= 0) return this.take()
        await buffer.wait(batchSize, left)
      } else if (buffer.deadCount > 0) {
        // Only dead letters: write them now; the position moves with the next event.
        await this.writeDeadLetters(buffer.take(0).deadLetters)
        this.maybeResume()
      } else {
        await buffer.wait(1, undefined)
      }
    }
  }

  /** Stop the consumer, drop what is buffered, release listeners. Never throws. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.gen++
    this.signal.removeEventListener('abort', this.onAbort)
    this.lifetime.abort()
    this.stopWatch()
    this.retire()
    this.buffer.clear()
    await Promise.allSettled([...this.retiring])
  }

  private readonly onAbort = (): void => {
    this.lifetime.abort()
    this.buffer.wake()
  }

  private fail(err: Error): void {
    if (this.failure !== undefined || this.closed) return
    this.failure = err
    this.s.logger.error(
      { source: this.s.name, server: this.s.server, code: (err as { code?: string }).code },
      err.message,
    )
    this.buffer.wake()
  }

  private async take(): Promise<TakenBatch<E>> {
    const batch = this.buffer.take(this.s.batchSize)
    await this.writeDeadLetters(batch.deadLetters)
    const m = this.s.metrics
    m.events += batch.events.length
    m.batches++
    m.lastSequence = batch.position
    this.maybeResume()
    return batch
  }

  private async writeDeadLetters(dead: TakenBatch<E>['deadLetters']): Promise<void> {
    if (dead.length === 0) return
    const first = dead[0]!
    this.s.logger.warn(
      { source: this.s.name, count: dead.length, firstSeq: first.seq, message: first.message },
      'source-nats: messages the decoder rejected went to dead letters',
    )
    if (this.s.deadLetters !== undefined) await this.s.deadLetters.write(dead)
  }

  /** Resume pulling once the pipeline has taken half of what paused it. */
  private maybeResume(): void {
    // A start still in flight here is stale (the pause superseded it): never wait for it.
    if (!this.paused || this.closed) return
    if (this.buffer.size > this.s.maxBufferedMessages / 2) return
    this.paused = false
    this.startConsumer().catch((err: Error) => this.fail(err))
  }

  /**
   * Create a consumer from the sequence after the last one received. A newer start, a pause or the
   * close supersede it (`gen`): a superseded start stops retrying, fails nothing and leaves nothing
   * behind.
   */
  private async startConsumer(): Promise<void> {
    const gen = ++this.gen
    const superseded = () => gen !== this.gen || this.closed
    let consumer: Consumer
    try {
      consumer = await createConsumer(
        this.js,
        this.s,
        this.buffer.lastSeq + 1,
        this.lifetime.signal,
        superseded,
      )
    } catch (err) {
      if (superseded()) return
      throw err
    }
    if (superseded()) {
      this.track(consumer.delete())
      return
    }
    const onMessage = (m: JsMsg): void => {
      if (gen !== this.gen) return
      this.buffer.add(m.seq, m.subject, m.data)
      if (this.buffer.size >= this.s.maxBufferedMessages) this.pause()
    }
    const messages = await consumer.consume({
      max_messages: this.s.pullSize,
      // The client's recovery after a reconnect backs off by this much when the server is not
      // ready yet (30 s by default): 5 s bounds that pause and costs one idle pull per 5 s.
      expires: PULL_EXPIRES_MS,
      callback: onMessage,
    })
    if (superseded()) {
      this.track(messages.close())
      this.track(consumer.delete())
      return
    }
    this.consumer = consumer
    this.messages = messages
    watchConsumer(messages, this.s, (err) => {
      if (gen === this.gen) this.fail(err)
    })
  }

  /**
   * After a reconnect, recreate the consumer from the sequence after the last one received rather
   * than wait for the client's own recovery, which backs off by the pull expiry when the server
   * (restarted: its in-memory consumer is gone) is not ready yet.
   */
  private restartConsumer(): void {
    if (this.closed || this.paused) return
    this.s.metrics.consumerResets++
    this.s.logger.info(
      { source: this.s.name, resumeAt: this.buffer.lastSeq + 1 },
      'source-nats: recreating the consumer after the reconnect',
    )
    this.retire()
    this.startConsumer().catch((err: Error) => this.fail(err))
  }

  private pause(): void {
    if (this.paused) return
    this.paused = true
    this.s.metrics.pauses++
    this.gen++
    this.retire()
  }

  /** Close the current consumer and delete it on the server (not awaited: tracked for `close()`). */
  private retire(): void {
    const messages = this.messages
    const consumer = this.consumer
    this.messages = undefined
    this.consumer = undefined
    if (messages !== undefined) this.track(messages.close())
    if (consumer !== undefined && !this.nc.isClosed()) this.track(consumer.delete())
  }

  private track(p: Promise<unknown>): void {
    // Bounded: a delete sent while disconnected would otherwise wait for the request timeout.
    const bounded = Promise.race([p, new Promise((r) => setTimeout(r, 2000).unref())]).catch(() => undefined)
    this.retiring.add(bounded)
    void bounded.finally(() => this.retiring.delete(bounded))
  }
}
