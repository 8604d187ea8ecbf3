/**
 * `flush()` as a barrier. Every `flush()` call closes the current *epoch*; a write (a key state's pending
 * update, then the same write at the store) belongs to the epoch in which its oldest update was
 * written. A flush waits until no write of its epoch or an earlier one is outstanding, so writes
 * that come after it never delay it.
 *
 * Cheap on the hot path: `write()` only stamps the current epoch on a key state when it gets a pending
 * update. The counts of an epoch are taken when it is closed, from the sink's buffered total (every
 * outstanding write then belongs to it or to an earlier, still counted epoch), and decremented per
 * batch when a batch finishes. Only closed epochs with outstanding writes are kept: a few at most.
 */

interface Waiter {
  epoch: number
  resolve: (reached: boolean) => void
  reject: (e: unknown) => void
}

/** The flush epochs of one sink. */
export class FlushEpochs {
  private epoch = 0
  /** Closed epochs with outstanding writes → how many (insertion order is ascending epoch order). */
  private readonly open = new Map<number, number>()
  /** Sum of `open`: the current epoch holds the rest of the outstanding writes. */
  private inClosed = 0
  /** Ascending by epoch, since epochs are closed in call order. */
  private waiters: Waiter[] = []

  /** The epoch that writes made now belong to. */
  get current(): number {
    return this.epoch
  }

  /**
   * Close the current epoch, given the writes outstanding now (pending + at the store + waiting for
   * the outputs). Returns it: the epoch a flush called now waits for.
   */
  close(outstanding: number): number {
    const n = outstanding - this.inClosed
    if (n > 0) {
      this.open.set(this.epoch, n)
      this.inClosed += n
    }
    return this.epoch++
  }

  /** `n` writes of `epoch` reached their outcome. */
  finish(epoch: number, n: number): void {
    // The current epoch is not counted until a flush closes it.
    if (epoch >= this.epoch) return
    const left = (this.open.get(epoch) ?? 0) - n
    this.inClosed -= n
    if (left > 0) this.open.set(epoch, left)
    else this.open.delete(epoch)
  }

  /** Finish the writes of a batch, its epochs run-length encoded: `[epoch, count, epoch, count, ...]`. */
  finishRuns(runs: readonly number[]): void {
    for (let i = 0; i + 1 < runs.length; i += 2) this.finish(runs[i] as number, runs[i + 1] as number)
  }

  /** Whether every write of `epoch` and earlier reached its outcome. */
  reached(epoch: number): boolean {
    for (const oldest of this.open.keys()) return oldest > epoch
    return true
  }

  /** Writes of `epoch` and earlier that have not reached their outcome. */
  outstanding(epoch: number): number {
    let n = 0
    for (const [e, c] of this.open) {
      if (e > epoch) break
      n += c
    }
    return n
  }

  /**
   * Resolves `true` once `epoch` is reached, `false` when `signal` aborts first; rejects with what
   * `fail` is given.
   */
  wait(epoch: number, signal: AbortSignal | undefined): Promise<boolean> {
    if (this.reached(epoch)) return Promise.resolve(true)
    if (signal?.aborted) return Promise.resolve(false)
    return new Promise<boolean>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waiters.indexOf(w)
        if (i >= 0) this.waiters.splice(i, 1)
        resolve(false)
      }
      const w: Waiter = {
        epoch,
        resolve: (reached) => {
          signal?.removeEventListener('abort', onAbort)
          resolve(reached)
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort)
          reject(e)
        },
      }
      this.waiters.push(w)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Wake the waiters whose epoch was reached. */
  settle(): void {
    const w = this.waiters
    let k = 0
    while (k < w.length && this.reached((w[k] as Waiter).epoch)) k++
    if (k === 0) return
    const ready = w.splice(0, k)
    for (const x of ready) x.resolve(true)
  }

  /** Reject every waiter with `e` (the sink stopped for good). */
  fail(e: unknown): void {
    const w = this.waiters
    this.waiters = []
    for (const x of w) x.reject(e)
  }
}
