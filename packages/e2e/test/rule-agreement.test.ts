/**
 * One rule, every path: each rule that decides skew (does a value fit its type, which record is
 * newer, how a time is read) lives once in core, and this file runs one table of cases through
 * every path that applies it — the pipeline's door, the online sink, the memory and Redis stores,
 * the memory and Parquet logs, the as-of join and the skew audit — and asserts they agree with
 * core's rule and with each other. Where copies disagreed before the rules moved to core, the
 * case says what the old code did.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startRedis } from '@skewless/adapter-tests'
import { asOfJoin, skewAudit } from '@skewless/asof-join'
import {
  collectingSink,
  createPipeline,
  type DeadLetter,
  defineFeatures,
  type FeatureUpdate,
  type FeatureValue,
  type FeatureWrite,
  last,
  manualClock,
  parseTime,
  unbounded,
  type ValueType,
} from '@skewless/core'
import { compareRecord, fitsValueType, isNewerVersion, looksLikeSeconds } from '@skewless/core/adapter'
import { backfill, memoryLog, type OfflineLog, type RejectedWrite } from '@skewless/offline-log'
import { parquetLog } from '@skewless/offline-parquet'
import { redisStore } from '@skewless/online-redis'
import {
  memoryStore,
  type OnlineDeadLetter,
  type OnlineFeatureConfig,
  type OnlineStore,
  onlineSink,
} from '@skewless/online-sink'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const T0 = Date.UTC(2026, 11, 7, 10)
const TYPES: ValueType[] = ['double', 'int64', 'string', 'bool']
const FEATURES: OnlineFeatureConfig[] = TYPES.map((t) => ({ name: `f_${t}`, valueType: t, strategy: 'cas' }))
const FEATURE_MAP = new Map(FEATURES.map((f) => [f.name, f]))
const LOG_TYPES = Object.fromEntries(FEATURES.map((f) => [f.name, f.valueType]))

let redis: Awaited<ReturnType<typeof startRedis>>
let dir: string
beforeAll(async () => {
  redis = await startRedis({ useEnv: false })
  dir = await mkdtemp(join(tmpdir(), 'rule-agreement-'))
}, 30_000)
afterAll(async () => {
  await redis?.stop()
  if (dir) await rm(dir, { recursive: true, force: true })
})

/** A Redis store on this file's server, under its own prefix; closed by the caller. */
let prefixes = 0
const redisOn = () => redisStore({ url: redis.url, prefix: `agree${prefixes++}:` })

/** The `Object.is`-comparable form of a value (NaN and -0 kept; a bigint as text). */
const show = (v: unknown) => (typeof v === 'bigint' ? `${v}n` : Object.is(v, -0) ? '-0' : String(v))

async function parquetOn(name: string, deadLetters?: ReturnType<typeof collectingSink<RejectedWrite>>) {
  return parquetLog({
    dir: join(dir, name),
    features: LOG_TYPES,
    ...(deadLetters === undefined ? {} : { deadLetters }),
  })
}

async function readLog(log: OfflineLog, at: number, features = FEATURES.map((f) => f.name)) {
  const out = new Map<string, FeatureWrite>()
  for (const w of await log.stateAt(at, { features })) out.set(`${w.feature}/${w.entity}`, w)
  return out
}

describe('value types: core fitsValueType decides at every path', () => {
  // [type, value]; a double is any number (NaN and ±Infinity included), an int64 a safe integer.
  const CASES: [ValueType, unknown][] = [
    ['double', 1.5],
    ['double', -0],
    ['double', 3],
    // Before: last('double') dead-lettered NaN at the door while the sink, Redis and both logs stored it.
    ['double', Number.NaN],
    ['double', Number.POSITIVE_INFINITY],
    ['double', '1.5'],
    ['double', true],
    ['double', 2n],
    ['double', null],
    ['int64', 42],
    ['int64', -(2 ** 53) + 1],
    ['int64', 2 ** 53],
    ['int64', 1.5],
    ['int64', Number.NaN],
    ['int64', '42'],
    ['int64', null],
    ['string', 'x'],
    ['string', ''],
    ['string', 1],
    ['string', null],
    ['bool', true],
    ['bool', false],
    ['bool', 0],
    ['bool', 'true'],
  ]
  const entity = (i: number) => `e${i}`
  const feature = (t: ValueType) => `f_${t}`
  const expected = CASES.map(([t, v]) => fitsValueType(v, t))
  const updates: FeatureUpdate[] = CASES.map(([t, v], i) => ({
    entity: entity(i),
    feature: feature(t),
    value: v as FeatureValue,
    eventTime: T0,
    version: 1,
  }))
  const writes: FeatureWrite[] = updates.map((u) => ({ ...u, availableTime: T0, outcome: 'applied' }))

  it('the pipeline door, the sink, both stores and both logs accept exactly what the rule accepts, and store it as given', async () => {
    const accepted: Record<string, boolean[]> = {}

    // Pipeline door: a last(type) feature per type; a refused value is a dead letter invalid-value.
    const door: boolean[] = []
    for (const t of TYPES) {
      const rows = CASES.map((c, i) => ({ c, i })).filter(({ c }) => c[0] === t)
      const sink = collectingSink<FeatureUpdate>()
      const dead = collectingSink<DeadLetter>()
      await createPipeline({
        source: rows.map(({ c, i }) => ({ id: entity(i), v: c[1] })),
        features: defineFeatures<{ id: string; v: unknown }>({
          entity: (e) => e.id,
          eventTime: () => T0,
          features: { [feature(t)]: { window: unbounded(), aggregate: last(t), value: (e) => e.v } },
        }),
        clock: manualClock(T0),
        logger: false,
        sink,
        deadLetters: dead,
      }).run()
      for (const { c, i } of rows) {
        const u = sink.items.find((x) => x.entity === entity(i))
        const d = dead.items.find((x) => (x.event as { id: string }).id === entity(i))
        // A refused value is a dead letter invalid-value (the entity may still emit its empty value).
        if (d) expect(d.code).toBe('invalid-value')
        else expect(show(u?.value), `door keeps ${show(c[1])}`).toBe(show(c[1]))
        door[i] = d === undefined
      }
    }
    accepted.door = door

    // Stores: apply() outcomes; then what a read returns.
    const stores: [string, OnlineStore][] = [
      ['memory store', memoryStore()],
      ['redis store', redisOn()],
    ]
    for (const [name, store] of stores) {
      const r = await store.apply(updates, FEATURE_MAP)
      accepted[name] = r.outcomes.map((o) => o === 'applied')
      const read = await store.read(
        updates.map((u) => u.entity),
        FEATURES,
      )
      updates.forEach((u, i) => {
        const e = read[i]?.[FEATURES.findIndex((f) => f.name === u.feature)]
        if (accepted[name]?.[i]) {
          expect(e?.kind, `${name} ${show(u.value)}`).toBe('value')
          if (e?.kind === 'value') expect(show(e.stored.value), `${name} reads back`).toBe(show(u.value))
        } else expect(e?.kind, `${name} stored a refused ${show(u.value)}`).toBe('missing')
      })
      await store.close()
    }

    // The online sink in front of a store: refused values are its dead letters.
    const sinkDead = collectingSink<OnlineDeadLetter>()
    const sink = onlineSink({ store: memoryStore(), features: FEATURES, deadLetters: sinkDead })
    await sink.write(updates)
    await sink.close()
    const sinkRefused = new Set(sinkDead.items.map((d) => d.update.entity))
    accepted['online sink'] = updates.map((u) => !sinkRefused.has(u.entity))

    // Logs: append with a dead-letter output, then stateAt.
    const logs: [string, OfflineLog, ReturnType<typeof collectingSink<RejectedWrite>>][] = []
    const memDead = collectingSink<RejectedWrite>()
    logs.push(['memory log', memoryLog({ features: LOG_TYPES, deadLetters: memDead }), memDead])
    const pqDead = collectingSink<RejectedWrite>()
    logs.push(['parquet log', await parquetOn('values', pqDead), pqDead])
    for (const [name, log, dead] of logs) {
      await log.append(writes)
      const refused = new Set(dead.items.map((d) => d.record.entity))
      expect(
        dead.items.every((d) => d.code === 'invalid-value'),
        name,
      ).toBe(true)
      accepted[name] = writes.map((w) => !refused.has(w.entity))
      const state = await readLog(log, T0)
      writes.forEach((w, i) => {
        const got = state.get(`${w.feature}/${w.entity}`)
        if (accepted[name]?.[i]) expect(show(got?.value), `${name} reads back`).toBe(show(w.value))
        else expect(got, `${name} stored a refused ${show(w.value)}`).toBeUndefined()
      })
      if (name === 'memory log') await log.close()
    }
    const pq = logs[1]?.[1] as OfflineLog

    for (const [path, got] of Object.entries(accepted)) {
      const wrong = CASES.filter((_, i) => got[i] !== expected[i]).map(([t, v]) => `${t} ${show(v)}`)
      expect(wrong, `${path} disagrees with fitsValueType on`).toEqual([])
    }

    // The join and the audit read the stored values back exactly (NaN, -0 and ±Infinity included).
    const kept = writes.filter((_, i) => expected[i] && writes[i]?.value !== null)
    for (const t of TYPES) {
      const mine = kept.filter((w) => w.feature === feature(t))
      const joined = await asOfJoin({ entity: mine.map((w) => w.entity), time: mine.map(() => T0) }, pq, {
        features: [feature(t)],
        int64: 'number',
      })
      const col = joined.getChild(feature(t))
      for (const [k, w] of mine.entries()) {
        expect(show(col?.get(k)), `join ${t} ${show(w.value)}`).toBe(show(w.value))
      }
    }
    const report = await skewAudit(
      kept.map((w) => ({
        entity: w.entity,
        feature: w.feature,
        value: w.value,
        eventTime: T0,
        readTime: T0,
      })),
      pq,
    )
    expect(report.mismatches).toEqual([])
    expect(report.matched).toBe(kept.length)
    await pq.close()
  })
})

describe('record order: core compareRecord decides at every path', () => {
  // Pairs of writes of one (entity, feature): [eventTime, version, availableTime, value] each.
  type W = [number, number, number, number]
  const PAIRS: [string, W, W][] = [
    ['later eventTime wins over a higher version', [T0 + 2, 1, T0 + 10, 1], [T0 + 1, 9, T0 + 11, 2]],
    ['an earlier eventTime arriving later loses', [T0 + 1, 9, T0 + 10, 1], [T0 + 2, 1, T0 + 11, 2]],
    ['equal eventTime: the higher version wins', [T0, 2, T0 + 10, 1], [T0, 3, T0 + 11, 2]],
    ['equal eventTime: a lower version arriving later loses', [T0, 3, T0 + 10, 1], [T0, 2, T0 + 11, 2]],
    // One write logged twice (after a crash): the earliest availableTime counts. Before, the join
    // took the latest copy while stateAt took the earliest (values differ here only to see which).
    ['one write logged twice: the earlier availableTime', [T0, 1, T0 + 11, 1], [T0, 1, T0 + 10, 2]],
  ]
  const READ = T0 + 100

  it('stores, the sink, both logs, the join and the audit pick the same record', async () => {
    const entity = (i: number) => `p${i}`
    const write = (i: number, [et, ver, at, value]: W): FeatureWrite => ({
      entity: entity(i),
      feature: 'f_double',
      value,
      eventTime: et,
      version: ver,
      availableTime: at,
      outcome: 'applied',
    })
    // Core's rule: the log's winner (compareRecord) and the stores' (isNewerVersion: equal is stale).
    const logWinner = PAIRS.map(([, a, b], i) => {
      const [wa, wb] = [write(i, a), write(i, b)]
      return compareRecord(
        wa.eventTime,
        wa.version,
        wa.availableTime,
        wb.eventTime,
        wb.version,
        wb.availableTime,
      ) >= 0
        ? wa
        : wb
    })
    const storeWinner = PAIRS.map(([, a, b], i) =>
      isNewerVersion(b[0], b[1], a[0], a[1]) ? write(i, b) : write(i, a),
    )
    const firsts = PAIRS.map(([, a], i) => write(i, a))
    const seconds = PAIRS.map(([, , b], i) => write(i, b))
    const f = FEATURES.filter((x) => x.name === 'f_double')

    // Stores: the first write, then the second (compare-and-set).
    for (const [name, store] of [
      ['memory store', memoryStore()],
      ['redis store', redisOn()],
    ] as [string, OnlineStore][]) {
      await store.apply(firsts, FEATURE_MAP)
      await store.apply(seconds, FEATURE_MAP)
      const read = await store.read(
        PAIRS.map((_, i) => entity(i)),
        f,
      )
      PAIRS.forEach(([what], i) => {
        const e = read[i]?.[0]
        expect(e?.kind === 'value' ? e.stored.value : undefined, `${name}: ${what}`).toBe(
          storeWinner[i]?.value,
        )
      })
      await store.close()
    }

    // The sink coalesces both writes of a pair in one batch before the store sees them.
    const store = memoryStore()
    const sink = onlineSink({ store, features: FEATURES })
    await sink.write([...firsts, ...seconds])
    await sink.close()
    const read = await store.read(
      PAIRS.map((_, i) => entity(i)),
      f,
    )
    PAIRS.forEach(([what], i) => {
      const e = read[i]?.[0]
      expect(e?.kind === 'value' ? e.stored.value : undefined, `online sink: ${what}`).toBe(
        storeWinner[i]?.value,
      )
    })

    // Logs (stateAt) and the join over each, at a time both copies are available.
    const logs: [string, OfflineLog][] = [
      ['memory log', memoryLog({ features: LOG_TYPES })],
      ['parquet log', await parquetOn('order')],
    ]
    for (const [name, log] of logs) {
      await log.append([...firsts, ...seconds])
      const state = await readLog(log, READ, ['f_double'])
      PAIRS.forEach(([what], i) => {
        const got = state.get(`f_double/${entity(i)}`)
        expect([got?.value, got?.availableTime], `${name} stateAt: ${what}`).toEqual([
          logWinner[i]?.value,
          logWinner[i]?.availableTime,
        ])
      })
      const joined = await asOfJoin(
        { entity: PAIRS.map((_, i) => entity(i)), time: PAIRS.map(() => READ) },
        log,
        { features: ['f_double'] },
      )
      PAIRS.forEach(([what], i) => {
        expect(joined.getChild('f_double')?.get(i), `${name} join: ${what}`).toBe(logWinner[i]?.value)
      })
      // The audit of what the stores served: one write per identity, so the store's pick is the log's.
      const served = PAIRS.map((_, i) => ({
        entity: entity(i),
        feature: 'f_double',
        value: storeWinner[i]?.value as number,
        eventTime: storeWinner[i]?.eventTime as number,
        readTime: READ,
      }))
      const report = await skewAudit(served, log)
      // Only the write logged twice may differ (stores keep the first copy they saw; the values
      // of one real write are equal, so that case is not skew in practice).
      const mismatched = report.mismatches.map((m) => PAIRS.findIndex((_, i) => entity(i) === m.entity))
      const differ = PAIRS.map((_, i) => i).filter((i) => storeWinner[i]?.value !== logWinner[i]?.value)
      expect(mismatched, `${name} audit`).toEqual(differ)
      await log.close()
    }
  })
})

describe('time parsing: core parseTime and the seconds rule decide at every path', () => {
  const ms = T0 + 1234
  // [what, raw time]
  const CASES: [string, unknown][] = [
    ['ms number', ms],
    ['bigint ms', BigInt(ms)],
    ['Date', new Date(ms)],
    ['ISO Z', new Date(ms).toISOString()],
    ['ISO +01:00', new Date(ms + 3_600_000).toISOString().replace('Z', '+01:00')],
    ['decimal string', String(ms)],
    ['date only', '2026-12-07'],
    // Before: the door accepted these through Date.parse (the offset-less one in the local zone)
    // while the join refused every string.
    ['not ISO', 'Dec 7, 2026 10:00 UTC'],
    ['ISO without an offset', '2026-12-07T10:00:01'],
    // Before: accepted everywhere as an instant of January 1970.
    ['seconds', Math.floor(ms / 1000)],
    ['seconds as a string', String(Math.floor(ms / 1000))],
    ['1970 as a Date (a unit-carrying form)', new Date(Math.floor(ms / 1000))],
  ]
  /** Core's rule: the instant, or `undefined` when refused (not a time, or a bare number that looks like seconds). */
  const rule = (raw: unknown): number | undefined => {
    const t = parseTime(raw)
    if (!Number.isFinite(t)) return undefined
    const bare =
      typeof raw === 'number' || typeof raw === 'bigint' || (typeof raw === 'string' && /^\d+$/.test(raw))
    return bare && looksLikeSeconds(t) ? undefined : t
  }
  const expected = CASES.map(([, raw]) => rule(raw))

  it('the pipeline door, backfill, the join labels and stateAt read each time alike', async () => {
    expect(expected.filter((t) => t === undefined).length, 'cases refused by the rule').toBe(4)
    const got: Record<string, (number | undefined)[]> = {}
    const group = () =>
      defineFeatures<{ id: string; t: unknown }>({
        entity: (e) => e.id,
        eventTime: (e) => e.t,
        features: { f_double: { window: unbounded(), aggregate: last('double'), value: () => 1 } },
      })
    const events = CASES.map(([, t], i) => ({ id: `t${i}`, t }))

    // The pipeline's door: the update's eventTime, or a dead letter invalid-time.
    const sink = collectingSink<FeatureUpdate>()
    const dead = collectingSink<DeadLetter>()
    await createPipeline({
      source: events,
      batchSize: 1,
      features: group(),
      clock: manualClock(T0 + 86_400_000),
      watermark: { maxFutureTime: Number.POSITIVE_INFINITY, allowedLateness: '100000d' },
      logger: false,
      sink,
      deadLetters: dead,
    }).run()
    expect(dead.items.every((d) => d.code === 'invalid-time')).toBe(true)
    got['pipeline door'] = events.map((e) => sink.items.find((u) => u.entity === e.id)?.eventTime)

    // Backfill into a log: the logged eventTime, or a dead letter.
    const log = memoryLog({ features: LOG_TYPES })
    const bdead = collectingSink<DeadLetter>()
    await backfill({
      source: events,
      features: group(),
      log,
      deadLetters: bdead,
      watermark: { allowedLateness: '100000d' },
    })
    const logged = await readLog(log, Number.MAX_SAFE_INTEGER, ['f_double'])
    got.backfill = events.map((e) => logged.get(`f_double/${e.id}`)?.eventTime)
    // The opt-out reaches backfill too: a seconds-looking number is then taken as the ms it is.
    const early = memoryLog({ features: LOG_TYPES })
    const secs = Math.floor(ms / 1000)
    await backfill({
      source: [{ id: 'early', t: secs }],
      features: group(),
      log: early,
      allowEarlyTimes: true,
    })
    expect(
      (await readLog(early, Number.MAX_SAFE_INTEGER, ['f_double'])).get('f_double/early')?.eventTime,
    ).toBe(secs)
    await early.close()

    // Join labels, one row at a time (a refused time throws): the label time the join used is
    // seen through includeAge (age = label time - eventTime of a record at T0).
    const jlog = memoryLog({ features: LOG_TYPES })
    await jlog.append(
      events.map((e) => ({
        entity: e.id,
        feature: 'f_double',
        value: 1,
        eventTime: 0,
        version: 1,
        availableTime: 0,
        outcome: 'applied' as const,
      })),
    )
    const labelTime = async (labels: Parameters<typeof asOfJoin>[0]): Promise<number | undefined> => {
      try {
        const t = await asOfJoin(labels, jlog, { features: [{ name: 'f_double', includeAge: true }] })
        return Number(t.getChild('f_double__age_ms')?.get(0))
      } catch (e) {
        expect((e as { code?: string }).code).toBe('invalid-time')
        return undefined
      }
    }
    got['join labels'] = []
    for (const [i, [, raw]] of CASES.entries()) {
      got['join labels'].push(await labelTime({ entity: [`t${i}`], time: [raw] }))
    }

    // stateAt takes numbers: the number cases go through its seconds check.
    const numeric = CASES.map(([, raw]) => typeof raw === 'number')
    got.stateAt = []
    for (const [, raw] of CASES) {
      if (typeof raw !== 'number') {
        got.stateAt.push(undefined)
        continue
      }
      try {
        await log.stateAt(raw, { features: ['f_double'] })
        got.stateAt.push(raw)
      } catch (e) {
        expect((e as { code?: string }).code).toBe('invalid-argument')
        got.stateAt.push(undefined)
      }
    }
    for (const [path, times] of Object.entries(got)) {
      const wrong = CASES.flatMap(([what], i) =>
        (path === 'stateAt' && !numeric[i]) || times[i] === expected[i]
          ? []
          : [`${what}: ${times[i]} (rule: ${expected[i]})`],
      )
      expect(wrong, `${path} disagrees with parseTime`).toEqual([])
    }

    await log.close()
    await jlog.close()
  })
})
