/**
 * A second thread for the join kernel: while the main thread decodes log batches and stages
 * records into buckets, one worker applies full buckets to the label slots. Staging buffers
 * (two per bucket, double-buffered), label times and slot state live in SharedArrayBuffers; a ring
 * queue of (bucket, buffer, count) entries and one "busy" flag per buffer are the only protocol,
 * driven by `Atomics.wait/notify`. The worker runs `applyStaged` from its own source text, so both
 * threads execute the same kernel. Values of every type are staged as raw bytes, so any whole-value
 * feature can be applied here.
 */
import { Worker } from 'node:worker_threads'
import { applyStaged } from './apply-kernel.js'

/** Queue words: head (worker), tail (main), done (main), status (worker: 1 finished, 2 failed). */
const HEAD = 0
const TAIL = 1
const DONE = 2
const STATUS = 3

/** Everything the worker needs, all shared. */
export interface ApplyWorkerData {
  T: SharedArrayBuffer
  state: SharedArrayBuffer
  hasVal: SharedArrayBuffer
  stage: SharedArrayBuffer
  flags: SharedArrayBuffer
  queue: SharedArrayBuffer
  /** Entries of the queue's ring (one per buffer). */
  ring: number
  L: number
  inclusive: boolean
  byAvailable: boolean
  shift: number
  /** Features: every bucket holds records of all of them. */
  F: number
  cap: number
  sorted: boolean
  /** Warm each bucket's slot range before applying it (dense buckets only). */
  warm: boolean
}

const SOURCE = `
const { workerData: w } = require('node:worker_threads')
const applyStaged = (${applyStaged.toString()})
const q = new Int32Array(w.queue)
const flags = new Int32Array(w.flags)
try {
  const T = new Float64Array(w.T)
  const state = new Float64Array(w.state)
  const stateI = new Int32Array(w.state)
  const hasVal = new Uint8Array(w.hasVal)
  const stageF = new Float64Array(w.stage)
  const stageI = new Int32Array(w.stage)
  let head = 0
  for (;;) {
    const tail = Atomics.load(q, ${TAIL})
    if (head === tail) {
      if (Atomics.load(q, ${DONE}) === 1 && Atomics.load(q, ${TAIL}) === head) break
      Atomics.wait(q, ${TAIL}, tail, 20)
      continue
    }
    const e = 4 + (head % w.ring) * 3
    const bucket = q[e], buf = q[e + 1], count = q[e + 2]
    const from = (bucket * 2 + buf) * w.cap * 6
    const first = w.sorted || !w.warm ? 0 : bucket << w.shift
    const last = w.sorted || !w.warm ? 0 : Math.min(w.L, first + (1 << w.shift))
    applyStaged(T, state, stateI, hasVal, stageF, stageI, from, from + count * 6, w.L, w.inclusive, w.byAvailable, first, last, w.F)
    head++
    Atomics.store(q, ${HEAD}, head)
    Atomics.store(flags, bucket * 2 + buf, 0)
    Atomics.notify(flags, bucket * 2 + buf)
  }
  Atomics.store(q, ${STATUS}, 1)
} catch (err) {
  Atomics.store(q, ${STATUS}, 2)
  Atomics.notify(flags, 0)
  throw err
} finally {
  Atomics.notify(q, ${STATUS})
  for (let i = 0; i < flags.length; i++) Atomics.notify(flags, i)
}
`

export class ApplyWorker {
  private readonly q: Int32Array
  private readonly flags: Int32Array
  private readonly worker: Worker
  private tail = 0
  private readonly ring: number
  private error: unknown

  constructor(data: Omit<ApplyWorkerData, 'flags' | 'queue' | 'ring'>, buffers: number) {
    // A buffer is queued at most once until the worker frees it, so a ring with one entry per
    // buffer can never overwrite an entry the worker has not read (with more buckets than ring
    // entries, one did, and the join waited forever for a buffer nobody would apply).
    const ring = buffers
    this.ring = ring
    const queue = new SharedArrayBuffer((4 + ring * 3) * 4)
    const flags = new SharedArrayBuffer(buffers * 4)
    this.q = new Int32Array(queue)
    this.flags = new Int32Array(flags)
    this.worker = new Worker(SOURCE, { eval: true, workerData: { ...data, flags, queue, ring } })
    this.worker.on('error', (err) => {
      this.error = err
    })
    this.worker.unref()
  }

  /** Hand a full buffer to the worker. */
  submit(bucket: number, buf: number, count: number): void {
    const e = 4 + (this.tail % this.ring) * 3
    Atomics.store(this.flags, bucket * 2 + buf, 1)
    this.q[e] = bucket
    this.q[e + 1] = buf
    this.q[e + 2] = count
    this.tail++
    Atomics.store(this.q, TAIL, this.tail)
    Atomics.notify(this.q, TAIL)
  }

  /** Block until the worker has applied buffer `buf` of `bucket`. */
  waitFree(bucket: number, buf: number): void {
    const i = bucket * 2 + buf
    while (Atomics.load(this.flags, i) !== 0) {
      this.check()
      Atomics.wait(this.flags, i, 1, 100)
    }
  }

  /** Block until every submitted buffer is applied, then let the worker exit. */
  finish(): void {
    Atomics.store(this.q, DONE, 1)
    Atomics.notify(this.q, TAIL)
    while (Atomics.load(this.q, STATUS) === 0) {
      this.check()
      Atomics.wait(this.q, STATUS, 0, 100)
    }
    this.check()
  }

  /** Let the worker drain and exit without waiting (the join failed on the main thread). */
  abort(): void {
    Atomics.store(this.q, DONE, 1)
    Atomics.notify(this.q, TAIL)
  }

  private check(): void {
    if (Atomics.load(this.q, STATUS) === 2 || this.error !== undefined) {
      void this.worker.terminate()
      throw new Error(`asof-join: the apply worker failed: ${String(this.error ?? 'see stderr')}`, {
        cause: this.error,
      })
    }
  }
}
