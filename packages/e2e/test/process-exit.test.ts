/**
 * No resource keeps the process alive: a program using the whole stack (Redis store with a
 * changelog, Parquet log, changelog committer with checkpoints, online sink, pipelines over an
 * array and over NATS JetStream, a reader) closes what it opened and returns, and its process ends
 * by itself, without process.exit. And one that forgets to close the sink, the committer and a
 * pipeline still ends: their timers are unref'd (sockets and files are another matter: the store,
 * the log and the NATS source must be closed, as their READMEs say). And one whose Redis cannot be
 * reached gets run() rejected with store-unreachable (on the old code it retried forever), closes
 * everything, and ends: the client's reconnection and the sink's backoff stop with the closes.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freeLoopbackPort, type RedisServerHandle, startRedis } from '@skewless/adapter-tests'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStream, jetstream, publishClicks } from '../../source-nats/test/fixtures.js'
import { type NatsServerHandle, startNats } from '../../source-nats/test/nats-server.js'
import { startFixture } from './helpers.js'

/**
 * Between the program's last line and the end of its process. A store closed while it cannot reach
 * Redis leaves one timer of ioredis' (2 s, it destroys a socket that did not close gracefully), so
 * that program ends about 2 s after its closes; the others within milliseconds.
 */
const EXIT_BOUND_MS = 5000

let redis: RedisServerHandle
let nats: NatsServerHandle
const dirs: string[] = []

beforeAll(async () => {
  redis = await startRedis({ useEnv: false })
  nats = await startNats()
  const nc = await nats.connect()
  await createStream(nc, 'LIFE', ['life.>'])
  await publishClicks(
    jetstream(nc),
    0,
    200,
    (n) => `life.u${n % 10}`,
    (n) => `u${n % 10}`,
  )
  await nc.close()
})
afterAll(async () => {
  await redis?.stop()
  await nats?.stop()
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

async function runChild(env: Record<string, string>) {
  const dir = await mkdtemp(join(tmpdir(), 'skewless-exit-'))
  dirs.push(dir)
  const closedPort = String(await freeLoopbackPort())
  const life = startFixture('lifecycle-child.ts', [redis.url, dir, nats.url, closedPort], env)
  let closedAt = Number.NaN
  life.child.stdout?.on('data', (d) => {
    if (String(d).includes('closed') && Number.isNaN(closedAt)) closedAt = performance.now()
  })
  // The whole program is bounded too: a hang fails here instead of at the test timeout.
  const timeout = setTimeout(() => life.child.kill('SIGKILL'), 60_000)
  const end = await life.ended
  clearTimeout(timeout)
  return { end, lingerMs: performance.now() - closedAt }
}

describe('the process exits by itself', () => {
  // The three programs run side by side (each in its own key prefix and log), to keep the file short.
  it('after every resource was closed; with the sink, committer and pipeline left open; after an unreachable Redis', async () => {
    const [all, leftOpen, unreachable] = await Promise.all([
      runChild({ PREFIX: 'all:' }),
      runChild({ PREFIX: 'open:', LEAVE_OPEN: '1' }),
      runChild({ PREFIX: 'down:', UNREACHABLE: '1' }),
    ])
    expect(all.end.stderr).toBe('')
    expect(all.end.stdout, all.end.stderr).toMatch(/served \d+/)
    expect(leftOpen.end.stdout).toMatch(/served \d+/)
    expect(unreachable.end.stdout).toContain('run: store-unreachable')
    for (const { end, lingerMs } of [all, leftOpen, unreachable]) {
      expect(end.stdout, end.stderr).toContain('closed')
      expect(end.signal).toBeNull()
      expect(end.code).toBe(0)
      expect(lingerMs).toBeLessThan(EXIT_BOUND_MS)
    }
  }, 90_000)
})
