/**
 * The effectively-once promise across crashes, with the real stack: a child process runs the
 * pipeline into a real redis-server (AOF, changelog on) and a Parquet log through the changelog
 * committer, with checkpoints committed by the log; it is SIGKILLed at random moments and at exact
 * steps (in a commit's renames, in a checkpoint's flush, between a drain and its commit), then
 * restarted as the docs say (same command: it resumes from the log). At the end it must equal an
 * uninterrupted run, value for value, and every value it ever served must be in the log.
 *
 * Size: SKEWLESS_CRASH_EVENTS (default 30_000) events; SKEWLESS_CRASH_RANDOM_KILLS (default 2)
 * random kills besides the 7 at exact steps.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type RedisServerHandle, startRedis } from '@skewless/adapter-tests'
import { skewAudit } from '@skewless/asof-join'
import type { FeatureWrite } from '@skewless/core'
import { parquetLog } from '@skewless/offline-parquet'
import { redisStore } from '@skewless/online-redis'
import type { ServedRecord } from '@skewless/online-sink'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { entities, featureNames, features, online } from './fixtures/scenario.js'
import { type LifeEnd, sleep, startFixture } from './helpers.js'
import { dumpStoreState, identity, keyOf, storedOf } from './store-state.js'

const EVENTS = Number(process.env.SKEWLESS_CRASH_EVENTS ?? 30_000)
const RANDOM_KILLS = Number(process.env.SKEWLESS_CRASH_RANDOM_KILLS ?? 2)
// 250 events per batch every 60 ms: a full pass takes ~7 s, and each killed life gets through
// well under a second of it, so every planned kill lands mid-run.
const PACE_MS = 60

/** What Redis holds, as `entity/feature[/tileStart] → value@eventTime#version`. */
async function dumpStore(url: string): Promise<Map<string, string>> {
  return dumpStoreState(redisStore({ url }), entities, online)
}

const logs = new Map<string, Promise<{ rows: FeatureWrite[]; end: FeatureWrite[] }>>()
/** Every row of the log and its state at the end (read once per directory). */
function readLog(dir: string) {
  let r = logs.get(dir)
  if (r === undefined) {
    r = (async () => {
      const log = await parquetLog({ dir, features: features.describe(), readOnly: true })
      try {
        const rows: FeatureWrite[] = []
        for await (const b of log.scanRows({ features: featureNames, includeStale: true })) rows.push(...b)
        const end = await log.stateAt(Number.MAX_SAFE_INTEGER, { features: featureNames })
        return { rows, end }
      } finally {
        await log.close()
      }
    })()
    logs.set(dir, r)
  }
  return r
}

interface Run {
  redis: RedisServerHandle
  dir: string
  served: string
}

async function newRun(name: string): Promise<Run> {
  const redis = await startRedis({ useEnv: false, appendonly: true, appendfsync: 'always' })
  const dir = mkdtempSync(join(tmpdir(), `skewless-crash-${name}-`))
  const served = join(dir, 'served.jsonl')
  writeFileSync(served, '')
  return { redis, dir, served }
}

// One stream for every life of both runs (scenario.ts reads it).
// Event i happens at T0 + 50 ms * i: the whole stream lies in the past (an event time after the
// read time is never joined), ending an hour before the test started.
process.env.CRASH_T0 = String(Date.now() - EVENTS * 50 - 3_600_000)

const life = (run: Run, env: Record<string, string> = {}) =>
  startFixture(
    'crash-child.ts',
    [run.redis.url, join(run.dir, 'log'), run.served, String(EVENTS), String(PACE_MS)],
    env,
  )

describe('crash storm: Redis + Parquet log through the changelog, SIGKILLed and restarted', () => {
  let reference: Run
  let crashed: Run
  const lives: LifeEnd[] = []
  const afterCrash: Map<string, string>[] = []

  beforeAll(async () => {
    reference = await newRun('ref')
    crashed = await newRun('crash')
    const ref = await life(reference).ended
    expect(ref.code, ref.stderr).toBe(0)

    // Exact steps first (each must really kill the child), then random moments.
    const plan: { env?: Record<string, string>; killAfterMs?: number }[] = [
      { env: { SKEWLESS_CRASH_AT: 'commit-before-version:3' } },
      { env: { SKEWLESS_CRASH_AT: 'commit-version-written:2' } },
      { env: { SKEWLESS_CRASH_AT: 'commit-renamed:4' } },
      { env: { CRASH_AT: 'flush:2' } },
      { env: { CRASH_AT: 'flush:3' } },
      { env: { CRASH_AT: 'commit:2' } },
      { env: { SKEWLESS_CRASH_AT: 'commit-renamed:2' } },
    ]
    let seed = 12345
    for (let k = 0; k < RANDOM_KILLS; k++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      plan.splice(1 + ((seed >>> 8) % plan.length), 0, { killAfterMs: 100 + (seed % 500) })
    }
    for (const step of plan) {
      const l = life(crashed, step.env)
      if (step.killAfterMs !== undefined) {
        await l.started
        await sleep(step.killAfterMs)
        l.child.kill('SIGKILL')
      }
      const end = await l.ended
      lives.push({ ...end, stdout: `${JSON.stringify(step)}: ${end.stdout}` })
      afterCrash.push(await dumpStore(crashed.redis.url))
    }
    const last = await life(crashed).ended
    lives.push(last)
    expect(last.code, last.stderr).toBe(0)
  }, 600_000)

  afterAll(async () => {
    for (const r of [reference, crashed]) {
      if (!r) continue
      await r.redis.stop()
      rmSync(r.dir, { recursive: true, force: true })
    }
  })

  it('every planned crash really killed the child mid-run', () => {
    const killed = lives.slice(0, -1)
    expect(killed.length).toBeGreaterThanOrEqual(8)
    for (const l of killed) expect(l.signal, `${l.stdout}\n${l.stderr}`).toBe('SIGKILL')
  })

  it('Redis ends equal to the uninterrupted run, every value, tile, eventTime and version', async () => {
    const ref = await dumpStore(reference.redis.url)
    const got = await dumpStore(crashed.redis.url)
    expect(ref.size).toBeGreaterThan(USERS_MIN)
    expect(got).toEqual(ref)
  })

  it("the log's state at the end equals the uninterrupted run's, and no write is logged twice", async () => {
    const ref = await readLog(join(reference.dir, 'log'))
    const got = await readLog(join(crashed.dir, 'log'))
    const strip = (ws: FeatureWrite[]) => ws.map((w) => `${keyOf(w)}=${storedOf(w)}`).sort()
    expect(strip(got.end)).toEqual(strip(ref.end))
    const seen = new Set<string>()
    const twice: string[] = []
    for (const w of got.rows) {
      const id = identity(w)
      if (seen.has(id)) twice.push(id)
      seen.add(id)
    }
    expect(twice).toEqual([])
    expect(got.rows.every((w) => w.outcome === 'applied')).toBe(true)
    // (Which writes reach the store differs between any two runs: the sink coalesces the updates of
    // a key whose write is in flight, and that depends on timing. The end state does not.)
  })

  it('every value Redis held right after each crash is logged applied', async () => {
    const got = await readLog(join(crashed.dir, 'log'))
    const logged = new Set(
      got.rows.filter((w) => w.outcome === 'applied').map((w) => `${keyOf(w)}=${storedOf(w)}`),
    )
    let checked = 0
    const missing: string[] = []
    for (const snapshot of afterCrash) {
      for (const [k, v] of snapshot) {
        checked++
        if (!logged.has(`${k}=${v}`)) missing.push(`${k}=${v}`)
      }
    }
    expect(checked).toBeGreaterThan(0)
    console.log(
      `crash storm: ${checked} values held by Redis right after ${afterCrash.length} crashes, ${missing.length} not logged`,
    )
    expect(missing.slice(0, 5)).toEqual([])
  })

  it('every value served during the run is in the log, and the skew audit finds no mismatch', async () => {
    const served: ServedRecord[] = readFileSync(crashed.served, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0)
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as ServedRecord]
        } catch {
          return [] // the last line of a killed life may be torn
        }
      })
    const got = await readLog(join(crashed.dir, 'log'))
    const values = new Set(
      got.rows.map((w) => `${w.entity}/${w.feature}=${JSON.stringify(w.value)}@${w.eventTime}`),
    )
    const notLogged = served.filter(
      (s) =>
        s.value !== null &&
        s.feature !== 'amount_1h' && // a served sum of tiles is checked by the audit below
        !values.has(`${s.entity}/${s.feature}=${JSON.stringify(s.value)}@${s.eventTime}`),
    )
    expect(served.filter((s) => s.value !== null).length).toBeGreaterThan(100)
    expect(notLogged.slice(0, 5)).toEqual([])
    const log = await parquetLog({
      dir: join(crashed.dir, 'log'),
      features: features.describe(),
      readOnly: true,
    })
    try {
      const report = await skewAudit(served, log, { features: online })
      expect(report.checked).toBe(served.length)
      console.log(
        `crash storm: ${lives.length} lives, ${got.rows.length} log rows, ${served.length} served values audited, ` +
          `${report.mismatches.length} mismatches, ${report.inFlight.length} reads during a write (in flight)`,
      )
      expect(report.mismatches.slice(0, 5)).toEqual([])
    } finally {
      await log.close()
    }
  })
})

const USERS_MIN = 100
