/**
 * An HTTP feature server on `node:http`: reads the online store through the reader, coalesces
 * concurrent requests into one store read, and logs every served value for the skew audit.
 *
 *   POST /get-online-features  {"entities": ["user-001", 42], "features": ["views_1h"]}
 *     200 {"vectors": [{"entity": "user-001", "values": {"views_1h": {"value": 3, "eventTime": ..., "ageMs": ...}}}]}
 *     `features` is optional (all of them); a missing or expired value is null.
 *   GET /features   the registry: every feature's definition and description
 *   GET /health     200 {"ok": true} with the batcher's counters
 *
 * Errors are JSON `{"error": "..."}`: 400 for a bad body or an unknown feature, 404, 405, 413
 * for a body over `maxBodyBytes`, 503 when the store cannot be read.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Clock, type FeatureInfo, type Sink, SkewlessError, toEntityKey } from '@skewless/core'
import { type OnlineStore, onlineFeatures, onlineReader, type ServedRecord } from '@skewless/online-sink'
import { type BatcherMetrics, requestBatcher } from './batcher.js'

/** Options of `createFeatureServer`. */
export interface FeatureServerOptions {
  /** The online store to read (e.g. `redisStore({ url })`); the server never closes it. */
  store: OnlineStore
  /** The definitions (`group.describe()`): TTLs, windows and strategies come from here. */
  features: readonly FeatureInfo[]
  /** Receives every value read from the store, for the audit (e.g. `parquetServedLog`). @default none */
  servedLog?: Sink<ServedRecord>
  /** Coalescing window: how long a request waits for others to share its store read (ms). @default 2 */
  batchWindowMs?: number
  /** A batch is sent at once at this many distinct entities. @default 1000 */
  maxBatchEntities?: number
  /** At most this many entities per request. @default 1000 */
  maxEntitiesPerRequest?: number
  /** Largest request body. @default 1 MiB */
  maxBodyBytes?: number
  /** Read time (TTL and windows). @default systemClock */
  clock?: Clock
}

/** A running feature server. */
export interface FeatureServer {
  /** The `node:http` server. */
  readonly http: Server
  /** Listen (port 0: any free port) and resolve with the base URL. */
  listen(port?: number, host?: string): Promise<string>
  /** The batcher's counters. */
  metrics(): BatcherMetrics
  /** Stop accepting, answer what is in flight, then flush and close the served log. */
  close(): Promise<void>
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

/** Build the server (not listening yet). */
export function createFeatureServer(options: FeatureServerOptions): FeatureServer {
  const configs = onlineFeatures([...options.features])
  const names = configs.map((c) => c.name)
  const known = new Set(names)
  const reader = onlineReader({
    store: options.store,
    features: configs,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.servedLog ? { servedLog: options.servedLog } : {}),
  })
  const batcher = requestBatcher({
    reader,
    windowMs: options.batchWindowMs ?? 2,
    maxEntities: options.maxBatchEntities ?? 1000,
  })
  const maxEntities = options.maxEntitiesPerRequest ?? 1000
  const maxBody = options.maxBodyBytes ?? 1 << 20

  async function getOnlineFeatures(body: unknown): Promise<unknown> {
    const req = body as { entities?: unknown; features?: unknown } | null
    if (typeof req !== 'object' || req === null || !Array.isArray(req.entities)) {
      throw new HttpError(400, 'body must be {"entities": [...], "features"?: [...]}')
    }
    if (req.entities.length === 0 || req.entities.length > maxEntities) {
      throw new HttpError(400, `entities: give 1 to ${maxEntities} keys, got ${req.entities.length}`)
    }
    let entities: string[]
    try {
      entities = req.entities.map((e, i) => toEntityKey(e, `entities[${i}]`))
    } catch (err) {
      throw new HttpError(400, (err as Error).message)
    }
    let features = names
    if (req.features !== undefined) {
      if (!Array.isArray(req.features) || req.features.some((f) => typeof f !== 'string')) {
        throw new HttpError(400, 'features must be an array of feature names')
      }
      const unknown = req.features.filter((f) => !known.has(f))
      if (unknown.length > 0) {
        throw new HttpError(
          400,
          `unknown feature(s) ${unknown.join(', ')}; this server serves ${names.join(', ')}`,
        )
      }
      features = req.features as string[]
    }
    try {
      return { vectors: await batcher.get(entities, features) }
    } catch (err) {
      // A store that cannot answer (after the reader's own limits) is the server's 503, not the client's fault.
      throw new HttpError(
        503,
        `online store: ${err instanceof SkewlessError ? `${err.message} [${err.code}]` : String(err)}`,
      )
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (path === '/get-online-features') {
      if (req.method !== 'POST') throw new HttpError(405, 'use POST')
      return send(res, 200, await getOnlineFeatures(await readJson(req, maxBody)))
    }
    if (path === '/features' && req.method === 'GET') return send(res, 200, { features: options.features })
    if (path === '/health' && req.method === 'GET') return send(res, 200, { ok: true, ...batcher.metrics() })
    throw new HttpError(404, `no route ${req.method} ${path}`)
  }

  const http = createServer((req, res) => {
    handle(req, res).catch((err) => {
      const status = err instanceof HttpError ? err.status : 500
      send(res, status, { error: err instanceof Error ? err.message : String(err) })
    })
  })
  http.keepAliveTimeout = 5_000

  return {
    http,
    listen(port = 0, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        http.once('error', reject)
        http.listen(port, host, () => {
          const a = http.address() as AddressInfo
          resolve(`http://${a.address}:${a.port}`)
        })
      })
    },
    metrics: () => batcher.metrics(),
    async close() {
      const closed = new Promise<void>((resolve) => http.close(() => resolve()))
      http.closeIdleConnections()
      await batcher.drain()
      await closed
      await options.servedLog?.close()
    },
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBytes) throw new HttpError(413, `body over ${maxBytes} bytes`)
    chunks.push(chunk)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch (err) {
    throw new HttpError(400, `body is not JSON: ${(err as Error).message}`)
  }
}
