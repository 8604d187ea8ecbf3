/** Writes batches to a `Sink` strictly in call order, awaiting its backpressure promises. */
import type { Sink } from '@skewless/core'
import { DownstreamError } from './errors.js'

/**
 * Serializes writes to one sink: a batch is handed to `sink.write` only after the promise of the
 * previous batch resolved, so the sink sees batches in the order they were acknowledged (per-key
 * order downstream) and never has two writes outstanding. A failure is sticky: later emits reject.
 */
export class OrderedEmitter<T> {
  private tail: Promise<void> | undefined
  /** The first failure of the sink, wrapped; set once. */
  failure: DownstreamError | undefined

  constructor(
    private readonly sink: Sink<T>,
    private readonly what: string,
  ) {}

  /** Write a batch after the previous ones; returns a promise only when the sink is busy. */
  emit(items: T[]): void | Promise<void> {
    if (this.failure) return Promise.reject(this.failure)
    if (this.tail === undefined) {
      let r: void | Promise<void>
      try {
        r = this.sink.write(items)
      } catch (e) {
        return Promise.reject(this.fail(e))
      }
      if (!r) return
      return this.track(r)
    }
    return this.track(this.tail.then(() => this.sink.write(items)))
  }

  /** Resolve when every emitted batch was taken by the sink. */
  idle(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure)
    return this.tail ?? Promise.resolve()
  }

  /**
   * Flush the sink once it took every emitted batch. A failing flush counts as a failed write: what
   * the sink acknowledged may not be durable, so the emitter stops with a `DownstreamError`.
   */
  async flush(): Promise<void> {
    await this.idle()
    try {
      await this.sink.flush()
    } catch (e) {
      throw this.fail(e)
    }
  }

  /** Close the sink; a failure is reported as a `DownstreamError` (its `cause` is the original). */
  async close(): Promise<void> {
    try {
      await this.sink.close()
    } catch (e) {
      throw this.fail(e)
    }
  }

  private track(r: Promise<void>): Promise<void> {
    const p: Promise<void> = r.then(
      () => {
        if (this.tail === p) this.tail = undefined
      },
      (e) => {
        if (this.tail === p) this.tail = undefined
        throw this.fail(e)
      },
    )
    this.tail = p
    return p
  }

  private fail(e: unknown): DownstreamError {
    if (!this.failure)
      this.failure = e instanceof DownstreamError ? e : new DownstreamError(this.what, { cause: e })
    return this.failure
  }
}
