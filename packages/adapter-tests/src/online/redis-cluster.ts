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
}

/** A running Redis Cluster on loopback. */
export interface RedisClusterHandle {
  /** Startup nodes for ioredis `new Cluster(nodes)`. */
  readonly nodes: readonly { host: string; port: number }[]
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
