/**
 * Cross-check against DuckDB on random data: `ASOF LEFT JOIN` for the event mode, and a correlated
 * subquery that spells out the availability filter and the tie-break for the available mode. Also
 * the Parquet writer, read back by DuckDB.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { asOfJoinTable, writeParquet } from '../src/index.js'
import { logTable, type Rec } from './helpers/fake-log.js'

let instance: DuckDBInstance
let con: DuckDBConnection
let dir: string

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:')
  con = await instance.connect()
  dir = await mkdtemp(join(tmpdir(), 'asof-join-'))
})
afterAll(async () => {
  con.closeSync()
  instance.closeSync()
  await rm(dir, { recursive: true, force: true })
})

function random(seed: number) {
  let s = seed >>> 0 || 1
  return (n: number) => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return Math.floor(((s >>> 0) / 4294967296) * n)
  }
}

function dataset(seed: number, intKeys: boolean) {
  const rnd = random(seed)
  const key = (e: number) => (intKeys ? e : `u${e}`)
  const recs: Rec[] = []
  for (let i = 0; i < 3000; i++) {
    const eventTime = rnd(5000) // many duplicate event times per entity: the version breaks ties
    const lag = rnd(10) === 0 ? 500 + rnd(3000) : rnd(40)
    recs.push({
      entity: key(rnd(60)),
      feature: 'f',
      value: rnd(1000),
      eventTime,
      availableTime: eventTime + lag,
      version: i, // unique, so no full tie: every engine must agree exactly
      outcome: rnd(20) === 0 ? 'stale' : 'applied',
    })
  }
  const labels = Array.from({ length: 700 }, (_, rid) => ({
    rid,
    entity: key(rnd(70)),
    time: rnd(5600) - 200,
  }))
  return { recs, labels }
}

async function load(
  recs: Rec[],
  labels: { rid: number; entity: string | number; time: number }[],
  intKeys: boolean,
) {
  const kt = intKeys ? 'INTEGER' : 'VARCHAR'
  await con.run(
    `CREATE OR REPLACE TABLE recs (entity ${kt}, et BIGINT, avail BIGINT, ver BIGINT, v DOUBLE, outcome VARCHAR)`,
  )
  await con.run(`CREATE OR REPLACE TABLE labels (rid INTEGER, entity ${kt}, t BIGINT)`)
  const q = (x: string | number) => (typeof x === 'number' ? String(x) : `'${x}'`)
  await con.run(
    `INSERT INTO recs VALUES ${recs.map((r) => `(${q(r.entity)}, ${r.eventTime}, ${r.availableTime}, ${r.version}, ${r.value}, '${r.outcome}')`).join(',')}`,
  )
  await con.run(
    `INSERT INTO labels VALUES ${labels.map((l) => `(${l.rid}, ${q(l.entity)}, ${l.time})`).join(',')}`,
  )
}

async function duck(sql: string): Promise<(number | null)[]> {
  const rows = (await con.runAndReadAll(sql)).getRows() as [number, number | null][]
  const out: (number | null)[] = []
  for (const [rid, v] of rows) out[Number(rid)] = v === null ? null : Number(v)
  return out
}

describe('cross-check with DuckDB', () => {
  for (const intKeys of [true, false]) {
    it(`event mode equals DuckDB ASOF LEFT JOIN (${intKeys ? 'int' : 'string'} keys)`, async () => {
      for (const seed of [1, 2, 3]) {
        const { recs, labels } = dataset(seed * 7919 + (intKeys ? 1 : 0), intKeys)
        await load(recs, labels, intKeys)
        // One inequality only in ASOF: fold the version tie-break into the key (versions < 1e6).
        const want = await duck(`
          SELECT l.rid, r.v FROM labels l ASOF LEFT JOIN
            (SELECT entity, et * 1000000 + ver AS k, v FROM recs WHERE outcome = 'applied') r
          ON l.entity = r.entity AND l.t * 1000000 + 999999 >= r.k ORDER BY l.rid`)
        const out = asOfJoinTable(labels, logTable(recs, { f: 'double' }), { features: ['f'], by: 'event' })
        expect([...(out.getChild('f') ?? [])]).toEqual(want)
        expect(want.filter((x) => x !== null).length).toBeGreaterThan(400)
      }
    })

    it(`available mode equals DuckDB with an availability filter (${intKeys ? 'int' : 'string'} keys)`, async () => {
      for (const seed of [4, 5, 6]) {
        const { recs, labels } = dataset(seed * 104729 + (intKeys ? 1 : 0), intKeys)
        await load(recs, labels, intKeys)
        for (const inclusive of [true, false]) {
          const le = inclusive ? '<=' : '<'
          const want = await duck(`
            SELECT l.rid, (SELECT r.v FROM recs r
              WHERE r.entity = l.entity AND r.outcome = 'applied' AND r.et ${le} l.t AND r.avail ${le} l.t
              ORDER BY r.et DESC, r.ver DESC, r.avail DESC LIMIT 1) AS v
            FROM labels l ORDER BY l.rid`)
          const out = asOfJoinTable(labels, logTable(recs, { f: 'double' }, { batchSize: 1000 }), {
            features: ['f'],
            inclusive,
          })
          expect([...(out.getChild('f') ?? [])]).toEqual(want)
        }
      }
    })
  }
})

/** One applied double record of entity 'a', feature 'd'. */
const A_DOUBLE: Rec = {
  entity: 'a',
  feature: 'd',
  value: 1.5,
  eventTime: 10,
  availableTime: 10,
  version: 0,
  outcome: 'applied',
}

describe('writeParquet', () => {
  it('writes a file DuckDB reads back with the same values and types, via a temp name', async () => {
    const recs: Rec[] = [
      A_DOUBLE,
      {
        entity: 'a',
        feature: 'n',
        value: 7n,
        eventTime: 10,
        availableTime: 10,
        version: 0,
        outcome: 'applied',
      },
      {
        entity: 'a',
        feature: 's',
        value: 'hi',
        eventTime: 10,
        availableTime: 10,
        version: 0,
        outcome: 'applied',
      },
      {
        entity: 'a',
        feature: 'b',
        value: true,
        eventTime: 10,
        availableTime: 10,
        version: 0,
        outcome: 'applied',
      },
    ]
    const types = { d: 'double', n: 'int64', s: 'string', b: 'bool' } as const
    const out = asOfJoinTable(
      { entity: ['a', 'zz'], time: Float64Array.from([25, 25]), y: [1, 0] },
      logTable(recs, types),
      {
        features: ['d', 'n', 's', 'b'],
        includeEventTime: true,
        includeAge: true,
      },
    )
    const path = join(dir, 'train.parquet')
    await writeParquet(out, path)
    expect(await readdir(dir)).toEqual(['train.parquet'])
    const reader = await con.runAndReadAll(`SELECT * FROM read_parquet('${path}')`)
    const rows = reader.getRowObjectsJS()
    expect(rows[0]).toMatchObject({ entity: 'a', y: 1, d: 1.5, n: 7n, s: 'hi', b: true, d__age_ms: 15n })
    expect((rows[0] as { d__event_time: Date }).d__event_time.getTime()).toBe(10)
    expect(rows[1]).toMatchObject({ entity: 'zz', d: null, n: null, s: null, b: null, d__event_time: null })
    const types2 = (
      await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}')`)
    ).getRowObjectsJS()
    const typeOf = (n: string) => types2.find((t) => t.column_name === n)?.column_type
    expect(typeOf('d')).toBe('DOUBLE')
    expect(typeOf('n')).toBe('BIGINT')
    expect(typeOf('s')).toBe('VARCHAR')
    expect(typeOf('d__event_time')).toMatch(/^TIMESTAMP/)
  })

  it('offers the Parquet log codecs (lz4 too) and names them in the file; an unknown codec is refused', async () => {
    const out = asOfJoinTable(
      { entity: ['a'], time: Float64Array.from([25]) },
      logTable([{ ...A_DOUBLE }], { d: 'double' }),
      { features: ['d'] },
    )
    const expected = { snappy: 'SNAPPY', zstd: 'ZSTD', lz4: 'LZ4_RAW', uncompressed: 'UNCOMPRESSED' } as const
    for (const [compression, codec] of Object.entries(expected)) {
      const path = join(dir, `codec-${compression}.parquet`)
      await writeParquet(out, path, { compression: compression as keyof typeof expected })
      const meta = (
        await con.runAndReadAll(
          `SELECT compression FROM parquet_metadata('${path}') WHERE path_in_schema = 'd'`,
        )
      ).getRowObjectsJS()
      expect(meta).toEqual([{ compression: codec }])
      expect((await con.runAndReadAll(`SELECT d FROM read_parquet('${path}')`)).getRowObjectsJS()).toEqual([
        { d: 1.5 },
      ])
    }
    await expect(
      writeParquet(out, join(dir, 'x.parquet'), { compression: 'gzip' as never }),
    ).rejects.toMatchObject({
      code: 'invalid-argument',
      option: 'compression',
    })
  })
})
