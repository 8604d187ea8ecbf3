// Faults on a real redis-server: SIGKILL + restart mid-stream, WRONGTYPE dead letters, NOSCRIPT, TTL.
import { type RedisServerHandle, startRedis } from '@skewless/adapter-tests'
import { collectingSink, type FeatureUpdate, type FeatureWrite, manualClock } from '@skewless/core'
import { isTransientRedisError, redisStore } from '@skewless/online-redis'
import {
  type OnlineDeadLetter,
  type OnlineFeatureConfig,
  onlineReader,
  onlineSink,
  StoreUnavailableError,
} from '@skewless/online-sink'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { APPLY_SCRIPT_SHA } from '../src/script.js'

const T = Date.UTC(2026, 10, 1)
const score: OnlineFeatureConfig = { name: 'score', valueType: 'double', strategy: 'cas' }
const fm = (...fs: OnlineFeatureConfig[]) => new Map(fs.map((f) => [f.name, f]))
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('kill -9 and restart mid-stream', () => {
  let server: RedisServerHandle
  beforeAll(async () => {
    // appendfsync always: a write Redis acknowledged is on disk, so it survives SIGKILL.
    server = await startRedis({ useEnv: false, appendonly: true, appendfsync: 'always' })
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('every update acknowledged before the kill survives, the sink retries, the final state is exact', async () => {
    const store = redisStore({ url: server.url, clientOptions: { retryStrategy: () => 20 } })
    const down = collectingSink<FeatureWrite>()
    const dead = collectingSink<OnlineDeadLetter>()
    const sink = onlineSink({
      store,
      features: [score],
      downstream: down,
      deadLetters: dead,
      maxBatchSize: 100,
      timeoutMs: 1000,
      retry: { minDelayMs: 10, maxDelayMs: 100 },
    })
    const keys = 300
    const chunks = 60
    const latest = new Map<string, FeatureUpdate>()
    let ackedBeforeKill: FeatureWrite[] = []
    let restarted: Promise<void> | undefined
    for (let c = 0; c < chunks; c++) {
      const chunk: FeatureUpdate[] = []
      for (let k = 0; k < 100; k++) {
        const i = c * 100 + k
        // Out of order within a chunk: CAS decides, and the final value is the greatest eventTime.
        const u = {
          entity: `k${(i * 7) % keys}`,
          feature: score.name,
          value: i,
          eventTime: T + i - (k % 3),
          version: c,
        }
        chunk.push(u)
        const prev = latest.get(u.entity)
        if (
          !prev ||
          u.eventTime > prev.eventTime ||
          (u.eventTime === prev.eventTime && u.version > prev.version)
        )
          latest.set(u.entity, u)
      }
      const r = sink.write(chunk)
      if (r) await r
      await tick(2)
      if (c === 20) {
        // The kill must land after a good part of the stream was acknowledged: on a loaded machine the
        // sink may still be writing the first batches here, so wait (bounded) until more than 500 were.
        const deadline = Date.now() + 20_000
        while (down.items.length <= 500 && Date.now() < deadline) await tick(10)
        ackedBeforeKill = down.items.slice()
        await server.kill()
        restarted = tick(300).then(() => server.restart())
      }
    }
    await restarted
    await sink.flush()
    expect(ackedBeforeKill.length).toBeGreaterThan(500)
    expect(sink.metrics().retries).toBeGreaterThan(0)
    expect(dead.items).toEqual([])

    const entities = [...latest.keys()]
    const rows = await store.read(entities, [score])
    const stored = new Map(entities.map((e, i) => [e, rows[i]?.[0]]))
    for (const w of ackedBeforeKill) {
      if (w.outcome !== 'applied') continue
      const s = stored.get(w.entity)
      expect(s?.kind).toBe('value')
      if (s?.kind === 'value') {
        const ok =
          s.stored.eventTime > w.eventTime ||
          (s.stored.eventTime === w.eventTime && s.stored.version >= w.version)
        expect(ok, `${w.entity} lost an acknowledged write`).toBe(true)
      }
    }
    for (const [e, u] of latest) {
      expect(stored.get(e)).toEqual({
        kind: 'value',
        stored: { value: u.value, eventTime: u.eventTime, version: u.version },
      })
    }
    // The log (downstream) agrees with the store: the last applied write per key is what is stored.
    const lastApplied = new Map<string, FeatureWrite>()
    for (const w of down.items) if (w.outcome === 'applied') lastApplied.set(w.entity, w)
    for (const [e, u] of latest) expect(lastApplied.get(e)?.eventTime).toBe(u.eventTime)
    await sink.close()
    await store.close()
  }, 30_000)
})

describe('a bounded shutdown while Redis is dead', () => {
  let server: RedisServerHandle
  beforeAll(async () => {
    server = await startRedis({ useEnv: false })
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('close({ signal }) returns by its deadline and dead-letters exactly what Redis did not acknowledge', async () => {
    const store = redisStore({ url: server.url, clientOptions: { retryStrategy: () => 20 } })
    const down = collectingSink<FeatureWrite>()
    const dead = collectingSink<OnlineDeadLetter>()
    // retries: Infinity (the default): without the signal this close() would never return.
    const sink = onlineSink({
      store,
      features: [score],
      downstream: down,
      deadLetters: dead,
      lingerMs: 0,
      maxBatchSize: 10,
      retry: { minDelayMs: 10, maxDelayMs: 100 },
    })
    const at = (i: number, version: number): FeatureUpdate => ({
      entity: `k${i}`,
      feature: score.name,
      value: version * 1000 + i,
      eventTime: T + version,
      version,
    })
    sink.write(Array.from({ length: 30 }, (_, i) => at(i, 1)))
    await sink.flush()
    await server.kill()
    const unacknowledged = Array.from({ length: 40 }, (_, i) => at(i, 2)) // k0..k29 newer, k30..k39 new
    sink.write(unacknowledged)
    await tick(50) // batches are at the dead server, retried
    const started = performance.now()
    await sink.close({ signal: AbortSignal.timeout(200) })
    expect(performance.now() - started).toBeLessThan(1500)
    expect(sink.metrics().retries).toBeGreaterThan(0)
    const byValue = (a: { value: unknown }, b: { value: unknown }) =>
      (a.value as number) - (b.value as number)
    expect(dead.items.map((d) => d.update).sort(byValue)).toEqual(unacknowledged)
    expect(dead.items.every((d) => d.code === 'aborted')).toBe(true)
    expect(down.items.map((w) => w.value).sort()).toEqual(Array.from({ length: 30 }, (_, i) => 1000 + i))
    expect(down.closed && dead.closed).toBe(true)
    store.getInstance().disconnect()
  })
})

describe('standalone server faults', () => {
  let server: RedisServerHandle
  let redis: Redis
  beforeAll(async () => {
    server = await startRedis({ useEnv: false })
    redis = new Redis(server.url)
  })
  afterAll(async () => {
    redis?.disconnect()
    await server?.stop()
  })

  it('a WRONGTYPE key reaches the dead-letter output with wrong-type while the rest of the batch lands', async () => {
    const store = redisStore({ client: redis, prefix: 'wt:' })
    await redis.set(store.valueKey('broken'), 'a string, not a hash')
    const down = collectingSink<FeatureWrite>()
    const dead = collectingSink<OnlineDeadLetter>()
    const sink = onlineSink({ store, features: [score], downstream: down, deadLetters: dead })
    const batch = ['a', 'b', 'broken', 'c'].map((entity, i) => ({
      entity,
      feature: score.name,
      value: i,
      eventTime: T,
      version: 0,
    }))
    await sink.write(batch)
    await sink.flush()
    expect(dead.items).toHaveLength(1)
    expect(dead.items[0]?.code).toBe('wrong-type')
    expect(dead.items[0]?.update.entity).toBe('broken')
    expect(dead.items[0]?.message).toMatch(/WRONGTYPE/)
    expect(down.items.map((w) => [w.entity, w.outcome]).sort()).toEqual([
      ['a', 'applied'],
      ['b', 'applied'],
      ['c', 'applied'],
    ])
    const rows = await store.read(['a', 'b', 'broken', 'c'], [score])
    expect(rows.map((r) => r[0]?.kind)).toEqual(['value', 'value', 'missing', 'value'])
    await sink.close()
  })

  it('falls back to EVAL after SCRIPT FLUSH (NOSCRIPT), then EVALSHA works again', async () => {
    const store = redisStore({ client: redis, prefix: 'ns:' })
    await redis.script('FLUSH')
    const r = await store.apply(
      [{ entity: 'x', feature: score.name, value: 1, eventTime: T, version: 0 }],
      fm(score),
    )
    expect(r.outcomes).toEqual(['applied'])
    // EVAL cached the script again, so the next call is a plain EVALSHA.
    expect(await redis.script('EXISTS', APPLY_SCRIPT_SHA)).toEqual([1])
    await redis.config('RESETSTAT')
    const r2 = await store.apply(
      [{ entity: 'x', feature: score.name, value: 2, eventTime: T + 1, version: 0 }],
      fm(score),
    )
    expect(r2.outcomes).toEqual(['applied'])
    const stats = await redis.info('commandstats')
    expect(stats).toMatch(/cmdstat_evalsha:calls=1,/)
    expect(stats).not.toMatch(/cmdstat_eval:/)
  })

  it('TTL: the reader filters logically expired values, the key lives longer, CAS survives the rewrite', async () => {
    const ttlMs = 10_000
    const f: OnlineFeatureConfig = { name: 'fresh', valueType: 'double', strategy: 'cas', ttlMs }
    const keep: OnlineFeatureConfig = { name: 'keep', valueType: 'string', strategy: 'upsert' }
    const store = redisStore({ client: redis, prefix: 'ttl:' })
    const now = Date.now()
    expect(
      (
        await store.apply(
          [{ entity: 'e', feature: f.name, value: 1, eventTime: now, version: 0 }],
          fm(f, keep),
        )
      ).outcomes,
    ).toEqual(['applied'])
    // Physical expiry is never earlier than the logical TTL.
    const pttl = await redis.pttl(store.valueKey('e'))
    expect(pttl).toBeGreaterThan(ttlMs - 1000)
    const clock = manualClock(now + ttlMs - 1)
    const reader = onlineReader({ store, features: [f], clock })
    expect((await reader.get(['e'], [f.name]))[0]?.values.fresh?.value).toBe(1)
    clock.set(now + ttlMs + 1)
    expect((await reader.get(['e'], [f.name]))[0]?.values.fresh).toBeNull()
    // After logical expiry the old value still guards CAS: a zombie older than it stays stale.
    expect(
      (
        await store.apply(
          [{ entity: 'e', feature: f.name, value: 9, eventTime: now - 1, version: 5 }],
          fm(f, keep),
        )
      ).outcomes,
    ).toEqual(['stale'])
    const later = now + ttlMs + 1
    expect(
      (
        await store.apply(
          [{ entity: 'e', feature: f.name, value: 2, eventTime: later, version: 0 }],
          fm(f, keep),
        )
      ).outcomes,
    ).toEqual(['applied'])
    expect((await reader.get(['e'], [f.name]))[0]?.values.fresh?.value).toBe(2)
    // A rewrite never shortens the key's life; a feature without TTL on the same hash makes it persistent.
    expect(await redis.pttl(store.valueKey('e'))).toBeGreaterThanOrEqual(pttl - 1000)
    await store.apply(
      [{ entity: 'e', feature: keep.name, value: 'x', eventTime: later, version: 0 }],
      fm(f, keep),
    )
    expect(await redis.pttl(store.valueKey('e'))).toBe(-1)
    await store.apply(
      [{ entity: 'e', feature: f.name, value: 3, eventTime: later + 1, version: 0 }],
      fm(f, keep),
    )
    expect(await redis.pttl(store.valueKey('e'))).toBe(-1)
  })

  it('TTL: a fractional or infinite ttlMs (or slack) is applied, not refused by PEXPIRE after the writes landed', async () => {
    const frac: OnlineFeatureConfig = { name: 'frac', valueType: 'double', strategy: 'cas', ttlMs: 1500.5 }
    const inf: OnlineFeatureConfig = { name: 'inf', valueType: 'double', strategy: 'cas', ttlMs: Infinity }
    const tiles: OnlineFeatureConfig = {
      name: 'tiles',
      valueType: 'int64',
      strategy: 'additive',
      window: { kind: 'tumbling', sizeMs: 60_000, hopMs: 60_000 },
      ttlMs: 0.25,
    }
    const store = redisStore({ client: redis, prefix: 'fracttl:', expirySlackMs: 10.5 })
    const now = Date.now()
    const r = await store.apply(
      [
        { entity: 'a', feature: frac.name, value: 1, eventTime: now, version: 0 },
        { entity: 'b', feature: inf.name, value: 2, eventTime: now, version: 0 },
        {
          entity: 'c',
          feature: tiles.name,
          value: 3,
          eventTime: now,
          version: 0,
          tileStart: now - (now % 60_000),
        },
      ],
      fm(frac, inf, tiles),
    )
    expect(r.outcomes).toEqual(['applied', 'applied', 'applied'])
    const pttl = await redis.pttl(store.valueKey('a'))
    expect(pttl).toBeGreaterThan(1000)
    expect(pttl).toBeLessThanOrEqual(1512)
    // No TTL at all is the only lifetime that never hides a value the reader serves forever.
    expect(await redis.pttl(store.valueKey('b'))).toBe(-1)
  })

  it('TTL: a write with an eventTime far in the future (ns by mistake) is applied, its hash kept', async () => {
    const f: OnlineFeatureConfig = { name: 'fresh', valueType: 'double', strategy: 'cas', ttlMs: 60_000 }
    const store = redisStore({ client: redis, prefix: 'farttl:' })
    const ns = Date.now() * 1e6
    const r = await store.apply(
      [
        { entity: 'ns', feature: f.name, value: 1, eventTime: ns, version: 0 },
        { entity: 'ok', feature: f.name, value: 2, eventTime: Date.now(), version: 0 },
      ],
      fm(f),
    )
    expect(r.outcomes).toEqual(['applied', 'applied'])
    // Its logical TTL ends after any lifetime PEXPIRE takes: the hash never expires physically.
    expect(await redis.pttl(store.valueKey('ns'))).toBe(-1)
    expect(await redis.pttl(store.valueKey('ok'))).toBeGreaterThan(0)
  })

  it('TTL: a feature without TTL written by one sink survives the TTL another sink gave the same entity hash', async () => {
    // Two pipelines (two feature lists) share the store and an entity: one with a TTL feature, one without.
    const short: OnlineFeatureConfig = { name: 'short', valueType: 'double', strategy: 'cas', ttlMs: 30 }
    const forever: OnlineFeatureConfig = { name: 'forever', valueType: 'string', strategy: 'upsert' }
    const store = redisStore({ client: redis, prefix: 'shared:', expirySlackMs: 10 })
    const now = Date.now()
    const a = await store.apply(
      [{ entity: 'e', feature: short.name, value: 1, eventTime: now, version: 0 }],
      fm(short),
    )
    const b = await store.apply(
      [{ entity: 'e', feature: forever.name, value: 'kept', eventTime: now, version: 0 }],
      fm(forever),
    )
    expect([...a.outcomes, ...b.outcomes]).toEqual(['applied', 'applied'])
    await tick(150)
    const reader = onlineReader({ store, features: [short, forever] })
    const [v] = await reader.get(['e'], [short.name, forever.name])
    expect(v?.values.short).toBeNull()
    expect(v?.values.forever?.value).toBe('kept')
  })

  it('a server refusing writes for a while (OOM at maxmemory, demoted to replica) gets the batch retried, not dead-lettered', async () => {
    const store = redisStore({ client: redis, prefix: 'oom:' })
    const tiles: OnlineFeatureConfig = {
      name: 'tiles',
      valueType: 'int64',
      strategy: 'additive',
      window: { kind: 'tumbling', sizeMs: 60_000, hopMs: 60_000 },
    }
    const label: OnlineFeatureConfig = { name: 'label', valueType: 'string', strategy: 'upsert' }
    const down = collectingSink<FeatureWrite>()
    const dead = collectingSink<OnlineDeadLetter>()
    const sink = onlineSink({
      store,
      features: [score, label, tiles],
      downstream: down,
      deadLetters: dead,
      lingerMs: 0,
      retry: { minDelayMs: 5, maxDelayMs: 20 },
    })
    await redis.config('SET', 'maxmemory', '1')
    try {
      sink.write([
        { entity: 'a', feature: score.name, value: 1, eventTime: T, version: 0 },
        { entity: 'b', feature: label.name, value: 'x', eventTime: T, version: 0 },
        { entity: 'c', feature: tiles.name, value: 2, eventTime: T, version: 0, tileStart: T },
      ])
      await tick(100)
    } finally {
      await redis.config('SET', 'maxmemory', '0')
    }
    await sink.flush()
    expect(dead.items.map((d) => d.message)).toEqual([])
    expect(down.items.map((w) => w.outcome)).toEqual(['applied', 'applied', 'applied'])
    const retries = sink.metrics().retries
    expect(retries).toBeGreaterThan(0)
    // A demoted master (failover): a replica of a master it cannot reach yet refuses writes.
    await redis.call('REPLICAOF', '127.0.0.1', '1')
    try {
      sink.write([{ entity: 'a', feature: score.name, value: 2, eventTime: T + 1, version: 0 }])
      await tick(100)
    } finally {
      await redis.call('REPLICAOF', 'NO', 'ONE')
    }
    await sink.close()
    expect(dead.items.map((d) => d.message)).toEqual([])
    expect(down.items.map((w) => w.outcome)).toEqual(['applied', 'applied', 'applied', 'applied'])
    expect(sink.metrics().retries).toBeGreaterThan(retries)
  })

  it('maps connection failures to a transient StoreUnavailableError and server errors by kind', async () => {
    const down = await startRedis({ useEnv: false })
    await down.stop()
    const store = redisStore({ url: down.url, clientOptions: { retryStrategy: () => null } })
    const err = await store
      .apply([{ entity: 'x', feature: score.name, value: 1, eventTime: T, version: 0 }], fm(score))
      .catch((e) => e)
    expect(err).toBeInstanceOf(StoreUnavailableError)
    expect(err.transient).toBe(true)
    expect(err.cause).toBeDefined()
    await store.close()
    const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' })
    for (const m of [
      'LOADING Redis is loading',
      'TRYAGAIN',
      'CLUSTERDOWN The cluster is down',
      'MASTERDOWN x',
    ])
      expect(isTransientRedisError(reply(m))).toBe(true)
    expect(isTransientRedisError(reply('ERR unknown command'))).toBe(false)
    expect(
      isTransientRedisError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    ).toBe(true)
  })

  it('dead-letters values that do not fit the declared type without sending them', async () => {
    const store = redisStore({ client: redis, prefix: 'ser:' })
    const r = await store.apply(
      [
        { entity: 'x', feature: score.name, value: 'nope', eventTime: T, version: 0 },
        { entity: 'y', feature: score.name, value: 1, eventTime: T, version: 0 },
        { entity: 'z', feature: score.name, value: 1, eventTime: Number.NaN, version: 0 },
        { entity: 'w', feature: score.name, value: 1, eventTime: T, version: Number.POSITIVE_INFINITY },
      ],
      fm(score),
    )
    expect(r.outcomes[0]).toMatchObject({ reason: 'serialization' })
    expect(r.outcomes[1]).toBe('applied')
    expect(r.outcomes[2]).toMatchObject({ reason: 'serialization', message: expect.stringMatching(/finite/) })
    expect(r.outcomes[3]).toMatchObject({ reason: 'serialization' })
  })

  it('a field not in the skewless encoding fails alone with script-error', async () => {
    const store = redisStore({ client: redis, prefix: 'enc:' })
    await redis.hset(store.valueKey('odd'), score.name, 'written by someone else')
    const r = await store.apply(
      [
        { entity: 'odd', feature: score.name, value: 1, eventTime: T, version: 0 },
        { entity: 'fine', feature: score.name, value: 2, eventTime: T, version: 0 },
      ],
      fm(score),
    )
    expect(r.outcomes[0]).toMatchObject({ reason: 'script-error' })
    expect(r.outcomes[1]).toBe('applied')
    // The reader treats it as missing rather than serving garbage.
    expect((await store.read(['odd'], [score]))[0]?.[0]).toEqual({ kind: 'missing' })
  })

  it('a tile hash whose horizon field is not ours fails alone with script-error', async () => {
    const clicks: OnlineFeatureConfig = {
      name: 'clicks',
      valueType: 'int64',
      strategy: 'additive',
      window: { kind: 'tumbling', sizeMs: 60_000, hopMs: 60_000 },
    }
    const store = redisStore({ client: redis, prefix: 'hz:' })
    await redis.hset(store.tileKey('odd', clicks.name), 'h', 'written by someone else')
    const r = await store.apply(
      [
        { entity: 'fine', feature: score.name, value: 1, eventTime: T, version: 0 },
        { entity: 'odd', feature: clicks.name, value: 1, eventTime: T, version: 0, tileStart: T },
        { entity: 'fine', feature: clicks.name, value: 2, eventTime: T, version: 0, tileStart: T },
      ],
      fm(score, clicks),
    )
    expect(r.outcomes[0]).toBe('applied')
    expect(r.outcomes[1]).toMatchObject({ reason: 'script-error' })
    expect(r.outcomes[2]).toBe('applied')
  })

  it('additive tiles: a TTL tile hash whose first call also prunes tiles gets its TTL', async () => {
    const clicks: OnlineFeatureConfig = {
      name: 'clicks_first',
      valueType: 'int64',
      strategy: 'additive',
      window: { kind: 'hopping', sizeMs: 300_000, hopMs: 60_000 },
      ttlMs: 120_000,
    }
    const store = redisStore({ client: redis, prefix: 'tiles-first:' })
    // 20 tiles in one call: more than 2·size/hop + 1 = 11, so the call creates the hash and prunes it.
    const writes = Array.from({ length: 20 }, (_, i) => ({
      entity: 'u',
      feature: clicks.name,
      value: i,
      eventTime: T + i * 60_000 + 1,
      version: 0,
      tileStart: T + i * 60_000,
    }))
    expect((await store.apply(writes, fm(clicks))).outcomes.every((o) => o === 'applied')).toBe(true)
    const key = store.tileKey('u', clicks.name)
    expect(await redis.hexists(key, 'h')).toBe(1) // pruned in this call
    // It was -1 (no expiry, kept forever) when pruning made HLEN differ from the fields created.
    expect(await redis.pttl(key)).toBeGreaterThan(0)
  })

  it('additive tiles: old tiles are pruned, a replay below the horizon is stale, the tile hash expires', async () => {
    const clicks: OnlineFeatureConfig = {
      name: 'clicks',
      valueType: 'int64',
      strategy: 'additive',
      window: { kind: 'hopping', sizeMs: 300_000, hopMs: 60_000 },
    }
    const store = redisStore({ client: redis, prefix: 'tiles:' })
    const tile = (i: number, version = 0) => ({
      entity: 'u',
      feature: clicks.name,
      value: i,
      eventTime: T + i * 60_000 + 1,
      version,
      tileStart: T + i * 60_000,
    })
    for (let i = 0; i < 20; i++)
      expect((await store.apply([tile(i)], fm(clicks))).outcomes).toEqual(['applied'])
    const key = store.tileKey('u', clicks.name)
    const fields = await redis.hkeys(key)
    // At most 2·size/hop + 1 = 11 tiles (+ the horizon field) are kept.
    expect(fields.length).toBeLessThanOrEqual(12)
    expect(fields).toContain('h')
    const horizon = Number(await redis.hget(key, 'h'))
    expect(horizon).toBeGreaterThan(T)
    // Replaying a pruned tile (even with a higher version) cannot re-create it.
    expect((await store.apply([tile(0, 5)], fm(clicks))).outcomes).toEqual(['stale'])
    // The newest tiles are all there, and the reader gets them as tiles.
    const [[entry]] = (await store.read(['u'], [clicks])) as [
      [{ kind: string; tiles?: { tileStart: number }[] }],
    ]
    expect(entry.kind).toBe('tiles')
    expect(entry.tiles?.at(-1)?.tileStart).toBe(T + 19 * 60_000)
    // Without a TTL the decayed 0 stays readable, as a value feature's last value does: no expiry.
    expect(await redis.pttl(key)).toBe(-1)
    // With one, the hash lives until the reader's TTL hides the decayed 0: size + ttl after the
    // newest tile's write (eventTime T + 19 min + 1 ms, in the past here, so counted from now).
    const ttlClicks: OnlineFeatureConfig = { ...clicks, name: 'clicks_ttl', ttlMs: 120_000 }
    const before = Date.now()
    const w = { ...tile(19), feature: ttlClicks.name }
    expect((await store.apply([w], fm(ttlClicks))).outcomes).toEqual(['applied'])
    const pttl = await redis.pttl(store.tileKey('u', ttlClicks.name))
    expect(pttl).toBeGreaterThan(300_000 + 120_000 + 60_000 - (Date.now() - before) - 1)
    expect(pttl).toBeLessThanOrEqual(300_000 + 120_000 + 60_000) // + the default expirySlackMs
  })
})
