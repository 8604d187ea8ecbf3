/**
 * A real `nats-server -js` for tests: a free loopback port, JetStream file storage in a temp dir,
 * SIGKILL + restart on the same port and store, every process killed when the test process exits.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { clientTls } from '../src/tls.js'

const HOST = '127.0.0.1'
const alive = new Set<ChildProcess>()
let hooked = false

/** Options of `startNats`. */
export interface StartNatsOptions {
  /** Extra server configuration (e.g. a `mappings { }` block), written to a config file. */
  config?: string
  /** Require this user and password. */
  auth?: { user: string; pass: string }
  /** Serve the HTTP monitoring endpoints (`connz`) on another free port. @default false */
  monitor?: boolean
  /** Enable JetStream. @default true */
  jetstream?: boolean
  /** Listen on this port instead of a free one (e.g. to replace a killed server). */
  port?: number
  /**
   * Require TLS (`--tls`) with this certificate and key; `connect()` trusts `caFile`. The readiness
   * probe does not verify the certificate, so a server with a wrong-host or rogue one starts too.
   */
  tls?: { certFile: string; keyFile: string; caFile: string }
}

/** A running server. */
export interface NatsServerHandle {
  /** `nats://127.0.0.1:<port>` (without credentials). */
  readonly url: string
  readonly port: number
  /** SIGKILL, as a crash would; the store dir is kept. */
  kill(): Promise<void>
  /** Start again on the same port and store dir; resolves when JetStream answers. */
  restart(): Promise<void>
  /** Stop and remove the store dir. */
  stop(): Promise<void>
  /** A client connection (closed by the caller). */
  connect(): Promise<NatsConnection>
  /** Client connections the server holds (needs `monitor: true`). */
  connectionCount(): Promise<number>
  /** The server's process id (benchmarks read its CPU time). */
  pid(): number | undefined
}

/** Start `nats-server -js` on a free loopback port. */
export async function startNats(options: StartNatsOptions = {}): Promise<NatsServerHandle> {
  const bin = natsServerBinary()
  if (!hooked) {
    hooked = true
    process.once('exit', () => {
      for (const c of alive) c.kill('SIGKILL')
    })
  }
  const port = options.port ?? (await freePort())
  const dir = mkdtempSync(join(tmpdir(), 'skewless-nats-'))
  const jetstream = options.jetstream ?? true
  const args = ['-a', HOST, '-p', String(port), ...(jetstream ? ['-js', '-sd', join(dir, 'store')] : [])]
  const monitorPort = options.monitor ? await freePort() : undefined
  if (monitorPort !== undefined) args.push('-m', String(monitorPort))
  if (options.tls) args.push('--tls', '--tlscert', options.tls.certFile, '--tlskey', options.tls.keyFile)
  let config = options.config ?? ''
  if (options.auth)
    config += `\nauthorization { user: "${options.auth.user}", password: "${options.auth.pass}" }\n`
  if (config !== '') {
    const file = join(dir, 'server.conf')
    writeFileSync(file, config)
    args.push('-c', file)
  }
  const url = `nats://${HOST}:${port}`
  const clientOptions = (verify = true) => ({
    servers: url,
    ...(options.auth ? { user: options.auth.user, pass: options.auth.pass } : {}),
    // The source's own TLS settings (identity checked against 127.0.0.1); the probe copies
    // `rejectUnauthorized` through the client into Node's tls.connect options.
    ...(options.tls
      ? { tls: verify ? clientTls(url, { caFile: options.tls.caFile }) : { rejectUnauthorized: false } }
      : {}),
  })
  let child: ChildProcess | undefined
  const boot = async () => {
    child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    const c = child
    alive.add(c)
    c.once('exit', () => alive.delete(c))
    c.stderr?.resume()
    const deadline = Date.now() + 15_000
    for (;;) {
      if (c.exitCode !== null) throw new Error(`nats-server exited with code ${c.exitCode}`)
      try {
        const nc = await connect({ ...clientOptions(false), timeout: 1000, reconnect: false })
        try {
          if (jetstream) {
            const { jetstreamManager } = await import('@nats-io/jetstream')
            await (await jetstreamManager(nc)).getAccountInfo()
          }
          return
        } finally {
          await nc.close()
        }
      } catch (err) {
        if (Date.now() > deadline)
          throw new Error(`nats-server on port ${port} did not start`, { cause: err })
        await new Promise((r) => setTimeout(r, 50))
      }
    }
  }
  const killWith = async (signal: NodeJS.Signals) => {
    const c = child
    if (!c || c.exitCode !== null || c.signalCode !== null) return
    const exited = new Promise<void>((r) => c.once('exit', () => r()))
    c.kill(signal)
    const timer = setTimeout(() => c.kill('SIGKILL'), 3000)
    await exited
    clearTimeout(timer)
  }
  await boot()
  return {
    url,
    port,
    kill: () => killWith('SIGKILL'),
    async restart() {
      await killWith('SIGKILL')
      await boot()
    },
    async stop() {
      await killWith('SIGTERM')
      rmSync(dir, { recursive: true, force: true })
    },
    connect: () => connect(clientOptions()),
    pid: () => child?.pid,
    async connectionCount() {
      if (monitorPort === undefined) throw new Error('start the server with monitor: true')
      const res = await fetch(`http://${HOST}:${monitorPort}/connz`)
      return ((await res.json()) as { num_connections: number }).num_connections
    },
  }
}

/** `nats-server` from PATH, else Debian's /usr/sbin (not on every user's PATH). */
function natsServerBinary(): string {
  for (const bin of ['nats-server', '/usr/sbin/nats-server']) {
    const probe = spawnSync(bin, ['--version'], { encoding: 'utf8' })
    if (!probe.error && probe.status === 0) return bin
  }
  throw new Error('nats-server is not installed: apt-get install nats-server (.ci/run does this)')
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, HOST, () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}
