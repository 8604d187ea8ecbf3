/**
 * Real `redis-server` processes for tests: a standalone server or a 3-node Redis Cluster, each on
 * free loopback ports (never the system server on 6379), data in a temp dir removed on stop.
 *
 * Every process started here is killed when the test process exits, even if a test failed before
 * its `afterAll` ran (an `exit` handler SIGKILLs whatever is still alive).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Options of `startRedis`. */
export interface StartRedisOptions {
  /** Use `REDIS_URL` when it is set instead of starting a server (not for fault tests). @default true */
  useEnv?: boolean
  /** Enable the append-only file, so acknowledged writes survive `kill()` + `restart()`. @default false */
  appendonly?: boolean
  /** `appendfsync` policy when `appendonly` is on. @default 'always' */
  appendfsync?: 'always' | 'everysec' | 'no'
  /** Extra `redis-server` arguments, e.g. `['--maxmemory', '10mb']`. @default [] */
  args?: readonly string[]
  /** How long to wait for PING to answer. @default 10_000 */
  startTimeoutMs?: number
}

/** A running standalone Redis. */
export interface RedisServerHandle {
  /** `redis://127.0.0.1:<port>` (or `REDIS_URL`). */
  readonly url: string
  /** TCP port. */
  readonly port: number
  /** Whether this is an external server from `REDIS_URL` (kill/restart are then unsupported). */
  readonly external: boolean
  /** Stop the server (SIGTERM, then SIGKILL) and remove its temp dir. */
  stop(): Promise<void>
  /** SIGKILL the server, as a crash would; the data dir is kept for `restart()`. */
  kill(): Promise<void>
  /** Start the server again on the same port with the same data dir; resolves when PING answers. */
  restart(): Promise<void>
}

/** Options of `startRedisCluster`. */
export interface StartRedisClusterOptions {
  /** Number of master nodes (no replicas). @default 3 */
  nodes?: number
  /** How long to wait for `cluster_state:ok` on every node. @default 20_000 */
  startTimeoutMs?: number
}

/** A running Redis Cluster on loopback. */
export interface RedisClusterHandle {
  /** Startup nodes for ioredis `new Cluster(nodes)`. */
  readonly nodes: readonly { host: string; port: number }[]
  /** Stop every node and remove the temp dirs. */
  stop(): Promise<void>
}

const HOST = '127.0.0.1'
const alive = new Set<ChildProcess>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const child of alive) child.kill('SIGKILL')
  })
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

/** Send one inline command and return the raw reply text (enough for PING and CLUSTER INFO). */
export function redisRawCommand(port: number, command: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = new Socket()
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
    sock.connect(port, HOST, () => sock.write(`${command}\r\n`))
  })
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
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

function spawnServer(args: readonly string[]): ChildProcess {
  installExitHook()
  const child = spawn(redisServerBinary(), args, { stdio: ['ignore', 'ignore', 'pipe'] })
  alive.add(child)
  child.once('exit', () => alive.delete(child))
  child.stderr?.resume()
  return child
}

async function killChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  child.kill(signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
  await exited
  clearTimeout(timer)
}

/**
 * Start a standalone `redis-server` on a free loopback port (`--save ''`, data in a temp dir), or
 * use `REDIS_URL` when set (unless `useEnv: false` or AOF is requested).
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServerHandle> {
  const envUrl = process.env.REDIS_URL
  if (envUrl && options.useEnv !== false && !options.appendonly) {
    const unsupported = async () => {
      throw new Error(
        'kill()/restart() need a server started by the test: call startRedis({ useEnv: false })',
      )
    }
    return {
      url: envUrl,
      port: Number(new URL(envUrl).port || 6379),
      external: true,
      stop: async () => {},
      kill: unsupported,
      restart: unsupported,
    }
  }
  const port = await freeLoopbackPort()
  const dir = mkdtempSync(join(tmpdir(), 'skewless-redis-'))
  const args = ['--port', String(port), '--bind', HOST, '--save', '', '--dir', dir, '--daemonize', 'no']
  if (options.appendonly) {
    args.push('--appendonly', 'yes', '--appendfsync', options.appendfsync ?? 'always')
  }
  args.push(...(options.args ?? []))
  const timeoutMs = options.startTimeoutMs ?? 10_000
  let child: ChildProcess | undefined
  const boot = async () => {
    child = spawnServer(args)
    await waitFor(`redis-server on port ${port}`, timeoutMs, async () => {
      if (child?.exitCode !== null) throw new Error(`redis-server exited with code ${child?.exitCode}`)
      return (await redisRawCommand(port, 'PING')).startsWith('+PONG')
    })
  }
  await boot()
  return {
    url: `redis://${HOST}:${port}`,
    port,
    external: false,
    async stop() {
      if (child) await killChild(child, 'SIGTERM')
      rmSync(dir, { recursive: true, force: true })
    },
    async kill() {
      if (child) await killChild(child, 'SIGKILL')
    },
    async restart() {
      if (child) await killChild(child, 'SIGKILL')
      await boot()
    },
  }
}

/**
 * Start a Redis Cluster of `nodes` masters on loopback: one `redis-server --cluster-enabled yes`
 * per node, joined by `redis-cli --cluster create`, ready when every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const n = options.nodes ?? 3
  const timeoutMs = options.startTimeoutMs ?? 20_000
  const dir = mkdtempSync(join(tmpdir(), 'skewless-redis-cluster-'))
  const children: ChildProcess[] = []
  const ports: number[] = []
  const stop = async () => {
    await Promise.all(children.map((c) => killChild(c, 'SIGKILL')))
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (let i = 0; i < n; i++) {
      const port = await freeLoopbackPort(10000)
      ports.push(port)
      children.push(
        spawnServer([
          '--port',
          String(port),
          '--bind',
          HOST,
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          dir,
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--cluster-node-timeout',
          '2000',
        ]),
      )
    }
    for (const port of ports) {
      await waitFor(`cluster node on port ${port}`, timeoutMs, async () =>
        (await redisRawCommand(port, 'PING')).startsWith('+PONG'),
      )
    }
    const create = await runRedisCli([
      '--cluster',
      'create',
      ...ports.map((p) => `${HOST}:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ])
    if (create.status !== 0) {
      throw new Error(
        `redis-cli --cluster create failed (exit ${create.status}): ${create.output.slice(-2000)}`,
      )
    }
    for (const port of ports) {
      await waitFor(`cluster_state:ok on port ${port}`, timeoutMs, async () =>
        (await redisRawCommand(port, 'CLUSTER INFO')).includes('cluster_state:ok'),
      )
    }
  } catch (err) {
    await stop()
    throw err
  }
  return { nodes: ports.map((port) => ({ host: HOST, port })), stop }
}

function runRedisCli(args: readonly string[]): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (c) => {
      output += c
    })
    child.stderr.on('data', (c) => {
      output += c
    })
    child.once('error', (err) =>
      reject(new Error('redis-cli is not on PATH: install redis-tools (.ci/run does this)', { cause: err })),
    )
    child.once('exit', (status) => resolve({ status, output }))
  })
}
