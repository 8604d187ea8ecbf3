/** A Redis Cluster on loopback for tests: N `redis-server --cluster-enabled yes` joined by `redis-cli`. */
import { type ChildProcess, spawn } from 'node:child_process'
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

/** Options of `startRedisCluster`. */
export interface StartRedisClusterOptions {
  /** Number of master nodes (no replicas). @default 3 */
  nodes?: number
  /** How long to wait for `cluster_state:ok` on every node. @default 20_000 */
  startTimeoutMs?: number
  /** Append-only file with `appendfsync always` on every node, so `killNode` + `restartNode` keep acknowledged data. @default false */
  appendonly?: boolean
  /** Extra `redis-server` arguments for every node, e.g. ACL `--user` lines. @default [] */
  args?: readonly string[]
  /**
   * Serve TLS only on every node, the cluster bus included (`--tls-cluster yes`), with this
   * certificate (it must name 127.0.0.1); clients are not asked for one. @default none: plaintext
   */
  tls?: { certFile: string; keyFile: string; caFile: string }
}

/** A running Redis Cluster on loopback. */
export interface RedisClusterHandle {
  /** Startup nodes for ioredis `new Cluster(nodes)`. */
  readonly nodes: readonly { host: string; port: number }[]
  /** SIGKILL node `i` (its slots become unavailable: no replicas). */
  killNode(i: number): Promise<void>
  /** Start node `i` again on its port with its data and cluster config; resolves at `cluster_state:ok`. */
  restartNode(i: number): Promise<void>
  /** Stop every node and remove the temp dirs. */
  stop(): Promise<void>
}

/**
 * Start a Redis Cluster of `nodes` masters on loopback: one `redis-server --cluster-enabled yes`
 * per node, joined by `redis-cli --cluster create`, ready when every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const n = options.nodes ?? 3
  const timeoutMs = options.startTimeoutMs ?? 20_000
  const dir = makeTempDir('skewless-redis-cluster-')
  const children: ChildProcess[] = []
  const ports: number[] = []
  const stop = async () => {
    await Promise.all(children.map((c) => killChild(c, 'SIGKILL')))
    removeTempDir(dir)
  }
  const tls = options.tls
  const argsOf = (port: number) => {
    const args = tls
      ? ['--port', '0', '--tls-port', String(port), '--tls-cluster', 'yes', '--tls-replication', 'yes']
      : ['--port', String(port)]
    if (tls) {
      args.push(
        '--tls-cert-file',
        tls.certFile,
        '--tls-key-file',
        tls.keyFile,
        '--tls-ca-cert-file',
        tls.caFile,
      )
      args.push('--tls-auth-clients', 'no')
    }
    args.push('--bind', HOST, '--save', '', '--dir', dir)
    // One AOF name per node: Redis 6 keeps it in `dir`, Redis 7 in `dir/appendonlydir` (shared, names differ).
    if (options.appendonly) {
      args.push(
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--appendfilename',
        `appendonly-${port}.aof`,
      )
    }
    args.push('--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`)
    args.push('--cluster-node-timeout', '2000', ...(options.args ?? []))
    return args
  }
  const allOk = async () => {
    for (const port of ports) {
      await waitFor(`cluster_state:ok on port ${port}`, timeoutMs, async () =>
        (await redisRawCommand(port, 'CLUSTER INFO', 1000, tls !== undefined)).includes('cluster_state:ok'),
      )
    }
  }
  try {
    for (let i = 0; i < n; i++) {
      const port = await freeLoopbackPort(10000)
      ports.push(port)
      children.push(spawnServer(argsOf(port)))
    }
    for (const port of ports) {
      await waitFor(`cluster node on port ${port}`, timeoutMs, async () =>
        (await redisRawCommand(port, 'PING', 1000, tls !== undefined)).startsWith('+PONG'),
      )
    }
    const create = await runRedisCli([
      ...(tls ? ['--tls', '--cacert', tls.caFile] : []),
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
    await allOk()
  } catch (err) {
    await stop()
    throw err
  }
  const nodeAt = (i: number) => {
    const port = ports[i]
    if (port === undefined) throw new RangeError(`no cluster node ${i}: the cluster has ${n} nodes`)
    return port
  }
  return {
    nodes: ports.map((port) => ({ host: HOST, port })),
    async killNode(i) {
      nodeAt(i)
      await killChild(children[i] as ChildProcess, 'SIGKILL')
    },
    async restartNode(i) {
      const port = nodeAt(i)
      await killChild(children[i] as ChildProcess, 'SIGKILL')
      children[i] = spawnServer(argsOf(port))
      await waitFor(`cluster node on port ${port}`, timeoutMs, async () =>
        (await redisRawCommand(port, 'PING', 1000, tls !== undefined)).startsWith('+PONG'),
      )
      await allOk()
    },
    stop,
  }
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
