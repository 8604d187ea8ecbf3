import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import type { FeatureWrite } from '@skewless/core'
import { PARQUET_CODECS, type ParquetCompression, writesToRecordBatch } from '@skewless/offline-log/adapter'
import { tableFromIPC } from 'apache-arrow'
import * as pw from 'parquet-wasm'
import { encodeParquetWasm, withoutFeature } from './encode-wasm.js'
import { CommitFailedError } from './errors.js'

/** One file for a worker to encode and write durably. */
export interface EncodeJob {
  /** Arrow IPC stream of the file's batch (transferred to the worker). */
  ipc: Uint8Array
  /** Absolute path of the temporary file to create. */
  path: string
  compression: ParquetCompression
  metadata: [string, string][]
  /** Rows of the batch (one row group per file). */
  rows: number
}

/**
 * Plain-JS worker body (evaluated, so it runs the same under tsx, vitest and the built package):
 * parquet-wasm encodes the IPC batch, then the file is created, written and fsynced with blocking
 * calls — blocking is the point of a worker. Must match `encodeParquetWasm`'s writer settings.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const fs = require('node:fs')
const pw = require(workerData.parquetWasm)
// Warm-up: parquet-wasm compiles its functions lazily on first call; do that now, while the log is
// opening or committing, instead of during the first scan (measured: the first scan of a process was
// ~2x slower than later ones).
try {
  const t = pw.readParquet(workerData.warmup).intoIPCStream()
  pw.writeParquet(pw.Table.fromIPCStream(t), new pw.WriterPropertiesBuilder().setCompression(pw.Compression.SNAPPY).build())
} catch {}
const CODECS = ${JSON.stringify(PARQUET_CODECS)}
const MAGIC = [0x50, 0x41, 0x52, 0x31]
function decode(job) {
  let bytes
  try {
    // An fd when the scan pinned the file (it may be unlinked by a compaction meanwhile). The main
    // thread opened it and closes it (Node warns when a thread closes an fd another thread opened).
    bytes = fs.readFileSync(job.fd !== undefined ? job.fd : job.path)
  } catch (e) {
    return parentPort.postMessage({ id: job.id, error: String((e && e.message) || e), code: e && e.code })
  }
  let ok = bytes.length >= 12
  for (let i = 0; ok && i < 4; i++) ok = bytes[i] === MAGIC[i] && bytes[bytes.length - 4 + i] === MAGIC[i]
  if (!ok) {
    return parentPort.postMessage({ id: job.id, corrupt: 'not a complete Parquet file (' + bytes.length + ' bytes, missing PAR1 magic)' })
  }
  let ipc
  try {
    ipc = pw.readParquet(bytes, { batchSize: 1 << 30 }).intoIPCStream()
  } catch (e) {
    return parentPort.postMessage({ id: job.id, corrupt: 'Parquet decoding failed (' + String((e && e.message) || e) + ')' })
  }
  parentPort.postMessage({ id: job.id, ipc }, [ipc.buffer])
}
parentPort.on('message', (job) => {
  if (job.kind === 'decode') return decode(job)
  try {
    const table = pw.Table.fromIPCStream(job.ipc)
    let b = new pw.WriterPropertiesBuilder()
      .setCompression(pw.Compression[CODECS[job.compression]])
      .setMaxRowGroupSize(Math.max(1, job.rows))
      .setCreatedBy('skewless offline-parquet')
      .setKeyValueMetadata(new Map(job.metadata))
    for (const c of ${JSON.stringify(['event_time', 'available_time', 'tile_start', 'version', 'value_double'])}) b = b.setColumnDictionaryEnabled(c, false)
    const bytes = pw.writeParquet(table, b.build())
    const fd = fs.openSync(job.path, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644)
    try {
      let off = 0
      while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    parentPort.postMessage({ id: job.id, bytes: bytes.length })
  } catch (e) {
    parentPort.postMessage({ id: job.id, error: String((e && e.message) || e) })
  }
})
`

/** A tiny log file with every column type, to warm the decoders of the workers (and this thread). */
function warmupFile(): Uint8Array {
  const t = 1_700_000_000_000
  const recs: FeatureWrite[] = [
    { entity: 'a', feature: 'd', value: 1.5, eventTime: t, version: 0, availableTime: t, outcome: 'applied' },
    {
      entity: 'b',
      feature: 'i',
      value: 2,
      eventTime: t,
      version: 1,
      availableTime: t,
      outcome: 'stale',
      tileStart: t,
    },
    { entity: 'c', feature: 's', value: 'x', eventTime: t, version: 2, availableTime: t, outcome: 'applied' },
    {
      entity: 'd',
      feature: 'b',
      value: true,
      eventTime: t,
      version: 3,
      availableTime: t,
      outcome: 'applied',
    },
  ]
  const batch = writesToRecordBatch(recs, { d: 'double', i: 'int64', s: 'string', b: 'bool' })
  const bytes = encodeParquetWasm(withoutFeature(batch), new Map(), 'snappy')
  tableFromIPC(pw.readParquet(bytes).intoIPCStream())
  return bytes
}

interface Waiter {
  resolve: (r: WorkerReply) => void
  reject: (e: unknown) => void
  worker: Worker
}

interface WorkerReply {
  id: number
  bytes?: number
  ipc?: Uint8Array
  error?: string
  /** errno code of a failed read, e.g. 'ENOENT'. */
  code?: string
  corrupt?: string
}

/**
 * Worker threads that encode and write files, so Parquet encoding (the largest single cost of a
 * commit) runs in parallel with the main thread preparing the next file — and never blocks the
 * event loop of the pipeline — and that read and decode files for scans, several files at once.
 * Jobs go round-robin.
 */
export class EncodePool {
  private readonly workers: Worker[] = []
  private readonly waiters = new Map<number, Waiter>()
  private nextId = 0
  private rr = 0
  /** Jobs in flight per worker: a worker keeps the process alive only while it has work. */
  private readonly busy = new Map<Worker, number>()

  constructor(private readonly size: number) {}

  private start(): void {
    const parquetWasm = createRequire(import.meta.url).resolve('parquet-wasm')
    const warmup = warmupFile()
    for (let i = 0; i < this.size; i++) {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { parquetWasm, warmup } })
      w.unref()
      w.on('message', (m: WorkerReply) => {
        const waiter = this.waiters.get(m.id)
        if (!waiter) return
        this.waiters.delete(m.id)
        this.release(waiter.worker)
        waiter.resolve(m)
      })
      w.on('error', (e) => this.failAll(e))
      w.on('exit', (code) => {
        if (this.waiters.size > 0)
          this.failAll(new CommitFailedError(`encoder worker exited with code ${code}`))
      })
      this.workers.push(w)
    }
  }

  private release(worker: Worker): void {
    const n = (this.busy.get(worker) ?? 1) - 1
    this.busy.set(worker, n)
    // Idle workers must not keep the process alive when the caller never closes the log.
    if (n === 0) worker.unref()
  }

  private failAll(e: unknown): void {
    for (const w of this.waiters.values()) w.reject(e)
    this.waiters.clear()
    this.workers.splice(0).forEach((w) => void w.terminate())
  }

  private send(msg: Record<string, unknown>, transfer: ArrayBuffer[]): Promise<WorkerReply> {
    if (this.workers.length === 0) this.start()
    const id = this.nextId++
    const worker = this.workers[this.rr++ % this.workers.length] as Worker
    return new Promise<WorkerReply>((resolve, reject) => {
      this.waiters.set(id, { resolve, reject, worker })
      const n = this.busy.get(worker) ?? 0
      if (n === 0) worker.ref()
      this.busy.set(worker, n + 1)
      worker.postMessage({ id, ...msg }, transfer)
    })
  }

  /** Encode and write one file; resolves with its size in bytes once it is fsynced. */
  async run(job: EncodeJob): Promise<number> {
    const r = await this.send({ kind: 'encode', ...job }, [job.ipc.buffer as ArrayBuffer])
    if (r.error !== undefined) throw new CommitFailedError(`encoding failed: ${r.error}`)
    return r.bytes as number
  }

  /**
   * Read and decode one file to an Arrow IPC stream. Resolves `{ ipc }`, or `{ corrupt }` with the
   * reason when the file is not a readable Parquet file; rejects on I/O errors. With `fd` (an open
   * descriptor of `path`, owned by the caller, who closes it after this settles) the worker reads through it.
   */
  async decode(path: string, fd?: number): Promise<{ ipc?: Uint8Array; corrupt?: string }> {
    const r = await this.send({ kind: 'decode', path, ...(fd === undefined ? {} : { fd }) }, [])
    if (r.error !== undefined) {
      throw Object.assign(new Error(`offline-parquet: cannot read ${path}: ${r.error}`), { code: r.code })
    }
    return r.corrupt !== undefined ? { corrupt: r.corrupt } : { ipc: r.ipc as Uint8Array }
  }

  /** Stop the workers (pending jobs fail). */
  async close(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.terminate()))
  }
}
