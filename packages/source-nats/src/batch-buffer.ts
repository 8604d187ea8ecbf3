/**
 * The read-ahead buffer of one reader: the client's message callback decodes each message into it
 * (no promise, no closure per message), and the reader's loop takes micro-batches out of it,
 * waiting for a full batch or the linger bound, whichever comes first.
 */
import type { NatsDeadLetter, NatsDecoder, NatsSourceMetrics } from './types.js'

/** A taken batch: its events and the sequence of its last message (events and dead letters alike). */
export interface TakenBatch<E> {
  events: E[]
  position: number
  /** Dead letters received up to now, to be written before the batch is yielded. */
  deadLetters: NatsDeadLetter[]
}

/** Decoded messages waiting for the pipeline, with the sequence of each. */
export class BatchBuffer<E> {
  private events: E[] = []
  private seqs: number[] = []
  private dead: NatsDeadLetter[] = []
  /** Sequence of the last message received (0 before any): the ordered consumer resumes after it. */
  lastSeq: number
  private firstArrivalAt = 0
  private want = 1
  private waiter: (() => void) | undefined
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(
    startSeq: number,
    private readonly decoder: NatsDecoder<E>,
    private readonly metrics: NatsSourceMetrics,
  ) {
    this.lastSeq = startSeq - 1
  }

  /** Messages held: events not yet taken plus dead letters not yet written. */
  get size(): number {
    return this.events.length + this.dead.length
  }

  /** Events held. */
  get eventCount(): number {
    return this.events.length
  }

  /** Dead letters not yet written. */
  get deadCount(): number {
    return this.dead.length
  }

  /** Decode and keep one message; false when it was a duplicate (already received). */
  add(seq: number, subject: string, data: Uint8Array): boolean {
    // The ordered consumer never redelivers, but a consumer recreated after a pause or a reset
    // may race its predecessor's last messages: the sequence keeps the buffer exact.
    if (seq <= this.lastSeq) return false
    this.lastSeq = seq
    this.metrics.messages++
    let event: E
    try {
      event = this.decoder(data, subject)
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      // A copy, as a plain Uint8Array: the client's payload may be a view of its read buffer.
      this.dead.push({ subject, seq, reason: 'undecodable', message, data: new Uint8Array(data) })
      this.metrics.deadLetters++
      this.metrics.buffered++
      // Dead letters alone do not make a batch, but they are written without waiting for one.
      if (this.events.length === 0) this.wake()
      return true
    }
    if (this.events.length === 0) this.firstArrivalAt = Date.now()
    this.events.push(event)
    this.seqs.push(seq)
    this.metrics.buffered++
    if (this.events.length >= this.want) this.wake()
    return true
  }

  /** How long (ms) the oldest held event may still wait for company (the linger bound). */
  lingerLeftMs(maxWaitMs: number): number {
    return this.firstArrivalAt + maxWaitMs - Date.now()
  }

  /** Take up to `max` events, and every pending dead letter. */
  take(max: number): TakenBatch<E> {
    const n = Math.min(max, this.events.length)
    let events: E[]
    let position: number
    if (n === this.events.length) {
      // Everything received is in this batch or in the dead letters: the position covers it all.
      events = this.events
      this.events = []
      this.seqs = []
      position = this.lastSeq
    } else {
      events = this.events.splice(0, n)
      const seqs = this.seqs.splice(0, n)
      position = seqs[n - 1] as number
      this.firstArrivalAt = Date.now()
    }
    const deadLetters = this.dead
    this.dead = []
    this.metrics.buffered -= n + deadLetters.length
    return { events, position, deadLetters }
  }

  /**
   * Resolve once `want` events are held (or a dead letter arrives into an empty buffer), after
   * `timeoutMs`, or on `wake()`.
   */
  wait(want: number, timeoutMs: number | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      this.want = want
      this.waiter = resolve
      if (timeoutMs !== undefined) this.timer = setTimeout(() => this.wake(), Math.max(0, timeoutMs))
    })
  }

  /** End the current wait now (abort, failure, a batch ready). */
  wake(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
    const w = this.waiter
    if (w === undefined) return
    this.waiter = undefined
    this.want = Number.POSITIVE_INFINITY
    w()
  }

  /** Drop what is held (the reader ends: nothing taken, so the position does not cover it). */
  clear(): void {
    this.metrics.buffered -= this.events.length + this.dead.length
    this.events = []
    this.seqs = []
    this.dead = []
    this.wake()
  }
}
