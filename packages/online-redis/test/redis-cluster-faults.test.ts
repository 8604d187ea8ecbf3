// A Cluster master killed mid-stream (no replicas: its slots go down) and restarted with its AOF:
// the sink retries through CLUSTERDOWN / refused connections and the final state is exact.
import { type RedisClusterHandle, redisRawCommand, startRedisCluster } from '@skewless/adapter-tests'
import { collectingSink, type FeatureUpdate, type FeatureWrite } from '@skewless/core'
import { redisStore } from '@skewless/online-redis'
import { type OnlineDeadLetter, type OnlineFeatureConfig, onlineSink } from '@skewless/online-sink'
import { afterAll, beforeAll, expect, it } from 'vitest'

const T = Date.UTC(2026, 10, 1)
const score: OnlineFeatureConfig = { name: 'score', valueType: 'double', strategy: 'cas' }
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms))

let cluster: RedisClusterHandle
beforeAll(async () => {
  cluster = await startRedisCluster({ nodes: 3, appendonly: true })
})
afterAll(async () => {
  await cluster?.stop()
})

// ioredis with auto-pipelining stops following MOVED after a topology change (ioredis #2075): the
// store then reloads the slot map and the sink retries, so both client setups must converge. The
// bucketed layout (with its changelog) goes through the same kill and restart.
for (const [autoPipelining, buckets] of [
  [false, 0],
  [true, 0],
  [false, 16],
] as const) {
  it(`redis cluster (auto-pipelining ${autoPipelining ? 'on' : 'off'}${buckets ? `, ${buckets} buckets with a changelog` : ''}): a master killed and restarted mid-stream loses no acknowledged write`, async () => {
    const store = redisStore({
      cluster: cluster.nodes,
      buckets,
      changelog: buckets > 0,
      prefix: `kill${buckets}:`,
      clientOptions: {
        clusterRetryStrategy: () => 50,
        redisOptions: { retryStrategy: () => 50 },
        enableAutoPipelining: autoPipelining,
      },
    })
    const down = collectingSink<FeatureWrite>()
    const dead = collectingSink<OnlineDeadLetter>()
    const sink = onlineSink({
      store,
      features: [score],
      downstream: down,
      deadLetters: dead,
      maxBatchSize: 100,
      timeoutMs: 1000,
      retry: { minDelayMs: 20, maxDelayMs: 200 },
    })
    const latest = new Map<string, FeatureUpdate>()
    let ackedBeforeKill: FeatureWrite[] = []
    let latestBeforeKill = new Map<string, FeatureUpdate>()
    let restarted: Promise<void> | undefined
    for (let c = 0; c < 40; c++) {
      const chunk: FeatureUpdate[] = []
      for (let k = 0; k < 50; k++) {
        const i = c * 50 + k
        const u = {
          entity: `c${autoPipelining}${buckets}-${(i * 13) % 200}`,
          feature: score.name,
          value: i,
          eventTime: T + i,
          version: 0,
        }
        chunk.push(u)
        latest.set(u.entity, u)
      }
      const r = sink.write(chunk)
      if (r) await r
      await tick(5)
      if (c === 10) {
        await sink.flush()
        ackedBeforeKill = down.items.slice()
        latestBeforeKill = new Map(latest)
        await cluster.killNode(1)
        await expect(redisRawCommand(cluster.nodes[1]?.port as number, 'PING')).rejects.toThrow()
        restarted = tick(500).then(() => cluster.restartNode(1))
      }
    }
    await restarted
    await sink.flush()
    // Before the kill every entity's newest update was acknowledged (older ones may have been
    // coalesced into it: how many depends on timing, so the count is not asserted).
    expect(latestBeforeKill.size).toBe(200)
    const ackedTimes = new Set(ackedBeforeKill.map((w) => `${w.entity}@${w.eventTime}`))
    for (const u of latestBeforeKill.values()) expect(ackedTimes.has(`${u.entity}@${u.eventTime}`)).toBe(true)
    expect(dead.items).toEqual([])
    const entities = [...latest.keys()]
    const rows = await store.read(entities, [score])
    for (let k = 0; k < entities.length; k++) {
      const u = latest.get(entities[k] as string) as FeatureUpdate
      expect(rows[k]?.[0]).toEqual({
        kind: 'value',
        stored: { value: u.value, eventTime: u.eventTime, version: 0 },
      })
    }
    if (buckets > 0) {
      // Every write the sink acknowledged as applied is in the changelog (which survived the
      // restart in the AOF), and no write is in it twice.
      const logged = new Map<string, number>()
      let pos: Parameters<NonNullable<typeof store.readChangelog>>[0]
      for (let page = 0; page < 1000; page++) {
        const p = await store.readChangelog?.(pos, { limit: 1000 })
        for (const w of p?.writes ?? []) {
          const id = `${w.entity}@${w.eventTime}`
          logged.set(id, (logged.get(id) ?? 0) + 1)
        }
        pos = p?.position
        if (p?.end) break
      }
      for (const w of down.items)
        if (w.outcome === 'applied') expect(logged.has(`${w.entity}@${w.eventTime}`)).toBe(true)
      expect([...logged.values()].every((n) => n === 1)).toBe(true)
    }
    await sink.close()
    await store.close()
  }, 60_000)
}
