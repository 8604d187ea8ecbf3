/** Conformance tests of reading: scan bounds and filters, Arrow layout, sorted segments, stateAt. */
import assert from 'node:assert/strict'
import type { FeatureWrite } from '@skewless/core'
import { recordBatchToWrites, type ScanOptions } from '@skewless/offline-log'
import { byKey, fw, OFFLINE_SUITE_FEATURES, prng, referenceStateAt, uid } from './fixtures.js'
import { ALL, rowObjects, rows, type SuiteContext, T0, valueCases } from './suite-helpers.js'

/** Register the read tests. */
export function readTests({ test, open, suite }: SuiteContext): void {
  test('an empty log scans nothing and has no state', async () => {
    const log = await open()
    assert.deepEqual(await rows(log, { features: ALL }), [])
    assert.deepEqual(await rowObjects(log, { features: ALL }), [])
    assert.deepEqual(await log.stateAt(T0, { features: ALL }), [])
    await log.close()
  })

  test('declares capabilities and feature types as data', async () => {
    const log = await open()
    assert.equal(typeof log.capabilities.durable, 'boolean')
    assert.equal(typeof log.capabilities.sortedSegments, 'boolean')
    assert.deepEqual({ ...log.featureTypes }, OFFLINE_SUITE_FEATURES)
    await log.close()
  })

  test('round-trips every value type through scan (Arrow) and scanRows', async () => {
    const log = await open()
    const recs = valueCases(uid(), suite.negativeTimes, suite.nanDoubles)
    await log.append(recs)
    const expected = [...recs].sort(byKey)
    assert.deepEqual(await rows(log, { features: ALL }), expected)
    assert.deepEqual(await rowObjects(log, { features: ALL }), expected)
    await log.close()
  })

  test('scan yields the Arrow log layout', async () => {
    const log = await open()
    await log.append(valueCases(uid(), suite.negativeTimes, suite.nanDoubles))
    let batches = 0
    for await (const b of log.scan({ features: ALL })) {
      batches++
      const types = Object.fromEntries(b.schema.fields.map((f) => [f.name, String(f.type)]))
      for (const c of ['entity', 'feature', 'value_string', 'outcome'])
        assert.match(types[c] ?? '', /Utf8/, c)
      assert.equal(types.value_double, 'Float64')
      assert.equal(types.value_int64, 'Int64')
      assert.equal(types.value_bool, 'Bool')
      assert.equal(types.version, 'Int64')
      for (const c of ['event_time', 'available_time', 'tile_start'])
        assert.equal(types[c], 'Timestamp<MILLISECOND>', c)
    }
    assert.ok(batches > 0)
    await log.close()
  })

  test('sorted segments: every scanned batch is sorted by (entity, event_time, version)', async () => {
    const log = await open()
    if (!log.capabilities.sortedSegments) return log.close()
    const rnd = prng(7)
    const e = uid()
    const recs: FeatureWrite[] = []
    for (let i = 0; i < 500; i++) {
      const et = T0 + Math.floor(rnd() * 10_000)
      recs.push(
        fw({
          entity: `${e}-${Math.floor(rnd() * 40)}`,
          feature: 'clicks',
          value: i,
          eventTime: et,
          version: i % 3,
          availableTime: et + 7,
        }),
      )
    }
    await log.append(recs.slice(0, 250))
    await log.append(recs.slice(250))
    let total = 0
    for await (const b of log.scan({ features: ['clicks'] })) {
      const w = recordBatchToWrites(b)
      total += w.length
      for (let i = 1; i < w.length; i++) {
        const a = w[i - 1] as FeatureWrite
        const c = w[i] as FeatureWrite
        const ok =
          a.entity < c.entity ||
          (a.entity === c.entity &&
            (a.eventTime < c.eventTime || (a.eventTime === c.eventTime && a.version <= c.version)))
        assert.ok(ok, `batch not sorted at row ${i}: ${JSON.stringify(a)} then ${JSON.stringify(c)}`)
      }
    }
    assert.equal(total, 500)
    await log.close()
  })

  test('scan reads only the named features and entities; an unknown entity reads nothing', async () => {
    const log = await open()
    const e = uid()
    await log.append([
      fw({ entity: `${e}-a`, feature: 'clicks', value: 1 }),
      fw({ entity: `${e}-b`, feature: 'clicks', value: 2 }),
      fw({ entity: `${e}-a`, feature: 'spend', value: 2.5 }),
    ])
    const clicks = await rows(log, { features: ['clicks'] })
    assert.deepEqual(
      clicks.map((r) => r.value),
      [1, 2],
    )
    const a = await rows(log, { features: ['clicks', 'spend'], entities: [`${e}-a`] })
    assert.deepEqual(
      a.map((r) => [r.feature, r.value]),
      [
        ['clicks', 1],
        ['spend', 2.5],
      ],
    )
    assert.deepEqual(await rows(log, { features: ALL, entities: ['nobody'] }), [])
    assert.deepEqual(await log.stateAt(T0 + 10, { features: ALL, entities: ['nobody'] }), [])
    await log.close()
  })

  test('from/to bounds are half-open on the chosen time basis', async () => {
    const log = await open()
    const e = uid()
    await log.append([
      fw({ entity: e, feature: 'clicks', value: 1, eventTime: 100, availableTime: 1000 }),
      fw({ entity: e, feature: 'clicks', value: 2, eventTime: 200, availableTime: 250 }),
      fw({ entity: e, feature: 'clicks', value: 3, eventTime: 300, availableTime: 300 }),
    ])
    const v = async (o: Partial<ScanOptions>) =>
      (await rows(log, { features: ['clicks'], ...o })).map((r) => r.value)
    assert.deepEqual(await v({ from: 200 }), [2, 3])
    assert.deepEqual(await v({ from: 100, to: 300 }), [1, 2])
    assert.deepEqual(await v({ to: 100 }), [])
    assert.deepEqual(await v({ from: 250, to: 1000, by: 'available' }), [2, 3])
    assert.deepEqual(await v({ from: 1000, by: 'available' }), [1])
    await log.close()
  })

  test('stale records are hidden from scans unless asked for, and never count for stateAt', async () => {
    const log = await open()
    const e = uid()
    await log.append([
      fw({ entity: e, feature: 'spend', value: 1, eventTime: 100, availableTime: 110 }),
      fw({ entity: e, feature: 'spend', value: 9, eventTime: 200, availableTime: 210, outcome: 'stale' }),
    ])
    assert.deepEqual(
      (await rows(log, { features: ['spend'] })).map((r) => r.value),
      [1],
    )
    assert.deepEqual(
      (await rows(log, { features: ['spend'], includeStale: true })).map((r) => r.outcome),
      ['applied', 'stale'],
    )
    const s = await log.stateAt(1000, { features: ['spend'] })
    assert.deepEqual(
      s.map((r) => r.value),
      [1],
    )
    await log.close()
  })

  test("stateAt by 'available' serves what the online store held; by 'event' what had happened", async () => {
    const log = await open()
    const e = uid()
    await log.append([
      fw({ entity: e, feature: 'clicks', value: 1, eventTime: 100, availableTime: 150 }),
      // happened at 200 but only readable online at 400 (slow write)
      fw({ entity: e, feature: 'clicks', value: 2, eventTime: 200, availableTime: 400 }),
    ])
    const at = async (t: number, by?: 'event' | 'available') =>
      (await log.stateAt(t, { features: ['clicks'], ...(by ? { by } : {}) })).map((r) => r.value)
    assert.deepEqual(await at(99), [])
    assert.deepEqual(await at(149), [])
    assert.deepEqual(await at(150), [1])
    assert.deepEqual(await at(300), [1], "default basis is 'available'")
    assert.deepEqual(await at(400), [2])
    assert.deepEqual(await at(99, 'event'), [])
    assert.deepEqual(await at(100, 'event'), [1])
    assert.deepEqual(await at(200, 'event'), [2])
    const full = await log.stateAt(400, { features: ['clicks'] })
    assert.deepEqual(full, [
      fw({ entity: e, feature: 'clicks', value: 2, eventTime: 200, availableTime: 400 }),
    ])
    await log.close()
  })

  test('stateAt of an additive feature holds one record per tile, as the online store does', async () => {
    const log = await open()
    const e = uid()
    const tile = (tileStart: number, value: number, eventTime: number, extra: Partial<FeatureWrite> = {}) =>
      fw({
        entity: e,
        feature: 'clicks',
        value,
        eventTime,
        availableTime: eventTime + 5,
        tileStart,
        ...extra,
      })
    await log.append([
      tile(0, 1, 10),
      tile(0, 2, 20, { version: 1 }),
      tile(60_000, 1, 60_010),
      tile(0, 3, 30, { version: 2, outcome: 'stale' }),
    ])
    await log.append([tile(120_000, 4, 120_050), tile(60_000, 5, 60_020, { version: 1 })])
    const at = async (t: number) =>
      (await log.stateAt(t, { features: ['clicks'] })).map((r) => [r.tileStart, r.value])
    assert.deepEqual(await at(24), [[0, 1]])
    assert.deepEqual(await at(60_016), [
      [0, 2],
      [60_000, 1],
    ])
    assert.deepEqual(await at(200_000), [
      [0, 2],
      [60_000, 5],
      [120_000, 4],
    ])
    await log.close()
  })

  test('stateAt picks the greatest eventTime, ties broken by version; a write logged twice counts with its earliest availableTime', async () => {
    const log = await open()
    const e = uid()
    // out of order, split across appends
    await log.append([
      fw({ entity: e, feature: 'country', value: 'v1', eventTime: 500, version: 1, availableTime: 600 }),
      fw({
        entity: e,
        feature: 'country',
        value: 'late-but-older',
        eventTime: 400,
        version: 9,
        availableTime: 700,
      }),
    ])
    await log.append([
      fw({ entity: e, feature: 'country', value: 'v2', eventTime: 500, version: 2, availableTime: 650 }),
      fw({
        entity: e,
        feature: 'country',
        value: 'v2-again',
        eventTime: 500,
        version: 2,
        availableTime: 660,
      }),
    ])
    const at = async (t: number) => (await log.stateAt(t, { features: ['country'] })).map((r) => r.value)
    assert.deepEqual(await at(620), ['v1'])
    assert.deepEqual(await at(655), ['v2'])
    // (500, 2) logged twice is one write: the copy that became readable first counts
    assert.deepEqual(await at(10_000), ['v2'])
    assert.deepEqual(
      (await log.stateAt(500, { features: ['country'], by: 'event' })).map((r) => r.value),
      ['v2'],
    )
    await log.close()
  })

  test('a write logged twice (same entity, feature, tileStart, eventTime, version) counts once: stateAt answers as without the copy, a scan of one commit yields it once', async () => {
    const log = await open()
    const e = uid()
    const first = [
      fw({ entity: e, feature: 'clicks', value: 1, eventTime: 1000, version: 1, availableTime: 1005 }),
      fw({ entity: e, feature: 'clicks', value: 2, eventTime: 2000, version: 1, availableTime: 2005 }),
      fw({
        entity: `${e}-t`,
        feature: 'clicks',
        value: 3,
        eventTime: 2000,
        tileStart: 0,
        availableTime: 2005,
      }),
      fw({
        entity: `${e}-t`,
        feature: 'clicks',
        value: 4,
        eventTime: 2000,
        tileStart: 60_000,
        availableTime: 2006,
      }),
    ]
    await log.append(first)
    const reference = async () => {
      const out: unknown[] = []
      for (const t of [1004, 1005, 2005, 2006, 3000, 10_000])
        for (const by of ['available', 'event'] as const)
          out.push(await log.stateAt(t, { features: ['clicks'], by }))
      return out
    }
    const before = await reference()
    // a replay logs the applied writes again, later: in a commit of its own, and twice within one commit
    await log.append([{ ...(first[1] as FeatureWrite), availableTime: 2500 }])
    await log.append([
      { ...(first[0] as FeatureWrite), availableTime: 1500 },
      { ...(first[0] as FeatureWrite), availableTime: 1600 },
      { ...(first[2] as FeatureWrite), availableTime: 2600 },
    ])
    assert.deepEqual(await reference(), before)
    // within one commit (one sorted run or file), the repeat is not even scanned
    const scanned = await rows(log, { features: ['clicks'], entities: [e], from: 900, to: 1100 })
    assert.equal(scanned.filter((r) => r.availableTime === 1600).length, 0)
    await log.close()
  })

  test('stateAt matches the reference semantics on random data, both bases', async () => {
    const log = await open()
    const rnd = prng(42)
    const e = uid()
    const recs: FeatureWrite[] = []
    for (let i = 0; i < 1500; i++) {
      const et = T0 + Math.floor(rnd() * 1000)
      const f = ALL[Math.floor(rnd() * 2)] as string // clicks, spend
      const w = fw({
        entity: `${e}-${Math.floor(rnd() * 30)}`,
        feature: f,
        value: f === 'clicks' ? Math.floor(rnd() * 100) : rnd(),
        eventTime: et,
        version: Math.floor(rnd() * 3),
        availableTime: et + Math.floor(rnd() * 300),
        outcome: rnd() < 0.1 ? 'stale' : 'applied',
      })
      // Some entities hold additive tiles of `clicks` instead: one state per tile.
      if (f === 'clicks' && w.entity.endsWith('7')) w.tileStart = T0 + 100 * Math.floor(rnd() * 4)
      recs.push(w)
    }
    for (let i = 0; i < recs.length; i += 300) await log.append(recs.slice(i, i + 300))
    const features = ['clicks', 'spend']
    const entities = [`${e}-3`, `${e}-4`, `${e}-17`, 'nobody']
    for (const t of [T0 - 1, T0 + 100, T0 + 500, T0 + 999, T0 + 1300]) {
      for (const by of ['event', 'available'] as const) {
        assert.deepEqual(
          await log.stateAt(t, { features, by }),
          referenceStateAt(recs, t, by, features),
          `t=${t} by=${by}`,
        )
        assert.deepEqual(
          await log.stateAt(t, { features, by, entities }),
          referenceStateAt(recs, t, by, features, entities),
        )
      }
    }
    await log.close()
  })
}
