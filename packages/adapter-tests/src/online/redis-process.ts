/**
 * Process plumbing of the redis test helpers: free loopback ports, spawning `redis-server`, a raw
 * RESP command for readiness checks, and killing every spawned server when the test process exits.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'

/** Loopback address every helper binds to. */
export const HOST = '127.0.0.1'
const alive = new Set<ChildProcess>()
const tempDirs = new Set<string>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const child of alive) child.kill('SIGKILL')
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
  })
}

/** A fresh temp dir for a server's data, removed by `removeTempDir` or when this process exits. */
export function makeTempDir(prefix: string): string {
  installExitHook()
  const dir = mkdtempSync(join(tmpdir(), prefix))
  tempDirs.add(dir)
  return dir
}

/** Remove a dir made by `makeTempDir`. */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
  tempDirs.delete(dir)
}

let binaryChecked = false
function redisServerBinary(): string {
  if (binaryChecked) return 'redis-server'
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (probe.error || probe.status !== 0) {
    throw new Error(
      'redis-server is not on PATH: install it (apt-get install redis-server; .ci/run does this) or set REDIS_URL',
      { cause: probe.error },
    )
  }
  binaryChecked = true
  return 'redis-server'
}

/** A free loopback TCP port; with `busOffset`, `port + busOffset` is free too (cluster bus port). */
export async function freeLoopbackPort(busOffset?: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await listenOnce(0)
    if (port === 6379) continue
    if (busOffset === undefined) return port
    if (port + busOffset > 65535) continue
    if ((await listenOnce(port + busOffset).catch(() => -1)) !== -1) return port
  }
  throw new Error('could not find a free loopback port')
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(port, HOST, () => {
      const addr = srv.address()
      const p = typeof addr === 'object' && addr ? addr.port : port
      srv.close(() => resolve(p))
    })
  })
}

/**
 * Send one inline command and return the raw reply text (enough for PING and CLUSTER INFO). With
 * `tls`, over TLS without checking the certificate: a readiness probe of the test's own server.
 */
export function redisRawCommand(
  port: number,
  command: string,
  timeoutMs = 1000,
  tls = false,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = tls ? tlsConnect({ port, host: HOST, rejectUnauthorized: false }) : new Socket()
    let data = ''
    const timer = setTimeout(() => {
      sock.destroy()
      reject(new Error(`no reply to '${command}' on port ${port} within ${timeoutMs} ms`))
    }, timeoutMs)
    sock.once('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    sock.on('data', (chunk) => {
      data += chunk.toString('utf8')
      // A status/error/integer reply is one line; a bulk reply is `$<len>\r\n<body>\r\n`.
      const bulk = /^\$(\d+)\r\n/.exec(data)
      if (bulk ? data.length >= bulk[0].length + Number(bulk[1]) + 2 : data.endsWith('\r\n')) {
        clearTimeout(timer)
        sock.end()
        resolve(data)
      }
    })
    if (tls) sock.once('secureConnect', () => sock.write(`${command}\r\n`))
    else sock.connect(port, HOST, () => sock.write(`${command}\r\n`))
  })
}

/** Poll `check` every 25 ms until it returns true. */
export async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      if (await check()) return
    } catch (err) {
      last = err
    }
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: last })
}

/** Spawn `redis-server` with `args`; it is SIGKILLed when this process exits. */
export function spawnServer(args: readonly string[]): ChildProcess {
  installExitHook()
  const child = spawn(redisServerBinary(), args, { stdio: ['ignore', 'ignore', 'pipe'] })
  alive.add(child)
  child.once('exit', () => alive.delete(child))
  child.stderr?.resume()
  return child
}

/** Send `signal` and wait for the exit (SIGKILL after 3 s). */
export async function killChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  child.kill(signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
  await exited
  clearTimeout(timer)
}
