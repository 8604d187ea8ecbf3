/**
 * Real `redis-server` processes for tests: a standalone server or a 3-node Redis Cluster, each on
 * free loopback ports (never the system server on 6379), data in a temp dir removed on stop.
 *
 * Every process started here is killed when the test process exits, even if a test failed before
 * its `afterAll` ran (an `exit` handler SIGKILLs whatever is still alive).
 */
import type { ChildProcess } from 'node:child_process'
import {
  freeLoopbackPort,
  HOST,
  killChild,
  makeTempDir,
  redisRawCommand,
  removeTempDir,
  spawnServer,
  waitFor,
} from './redis-process.js'

export * from './redis-cluster.js'
export { freeLoopbackPort, redisRawCommand } from './redis-process.js'

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
  /**
   * Serve TLS only (`--port 0 --tls-port <port>`, clients not asked for a certificate) with this
   * certificate; the URL becomes `rediss://`. Implies `useEnv: false`. @default none: plaintext
   */
  tls?: { certFile: string; keyFile: string; caFile: string }
}

/** A running standalone Redis. */
export interface RedisServerHandle {
  /** `redis://127.0.0.1:<port>` (`rediss://` with `tls`; or `REDIS_URL`). */
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

/**
 * Start a standalone `redis-server` on a free loopback port (`--save ''`, data in a temp dir), or
 * use `REDIS_URL` when set (unless `useEnv: false` or AOF is requested).
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServerHandle> {
  const envUrl = process.env.REDIS_URL
  if (envUrl && options.useEnv !== false && !options.appendonly && !options.tls) {
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
  const dir = makeTempDir('skewless-redis-')
  const tls = options.tls
  const args = tls
    ? [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--tls-cert-file',
        tls.certFile,
        '--tls-key-file',
        tls.keyFile,
      ]
    : ['--port', String(port)]
  if (tls) args.push('--tls-ca-cert-file', tls.caFile, '--tls-auth-clients', 'no')
  args.push('--bind', HOST, '--save', '', '--dir', dir, '--daemonize', 'no')
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
      return (await redisRawCommand(port, 'PING', 1000, tls !== undefined)).startsWith('+PONG')
    })
  }
  try {
    await boot()
  } catch (err) {
    if (child) await killChild(child, 'SIGKILL')
    removeTempDir(dir)
    throw err
  }
  return {
    url: `${tls ? 'rediss' : 'redis'}://${HOST}:${port}`,
    port,
    external: false,
    async stop() {
      if (child) await killChild(child, 'SIGTERM')
      removeTempDir(dir)
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
