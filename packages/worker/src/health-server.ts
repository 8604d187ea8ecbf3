/**
 * The optional health and metrics endpoint: `GET /healthz` (200 when no partition failed, else 503,
 * the body `WorkerHealth`) and `GET /metrics` (JSON `WorkerMetrics`), on `node:http`.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { WorkerHealth, WorkerMetrics } from './types.js'

/** A listening health server. */
export interface HealthServer {
  readonly url: string
  close(): Promise<void>
}

/** Listen on `host:port` (0: a free port). */
export async function startHealthServer(
  host: string,
  port: number,
  health: () => WorkerHealth,
  metrics: () => WorkerMetrics,
): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    let status = 200
    let body: unknown
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        status = 405
        body = { error: 'GET only' }
      } else if (path === '/healthz') {
        const h = health()
        status = h.status === 'ok' ? 200 : 503
        body = h
      } else if (path === '/metrics') {
        body = metrics()
      } else {
        status = 404
        body = { error: 'not found: GET /healthz or /metrics' }
      }
    } catch (err) {
      status = 500
      body = { error: err instanceof Error ? err.message : String(err) }
    }
    // JSON has no infinities: a watermark before the first event is null.
    const text = JSON.stringify(body, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
    res.end(req.method === 'HEAD' ? undefined : text)
  })
  // A scraper's keep-alive connection must not hold the process open after close().
  server.keepAliveTimeout = 1000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const addr = server.address() as AddressInfo
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  return {
    url: `http://${shownHost}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
