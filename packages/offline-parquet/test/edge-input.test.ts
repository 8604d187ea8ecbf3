import type { FeatureWrite } from '@skewless/core'
import type { RejectedWrite } from '@skewless/offline-log'
import { afterAll, describe, expect, it } from 'vitest'
import { parquetLog } from '../src/index.js'
import type { ParquetEncoder } from '../src/types.js'
import { removeTempDirs, tempDir } from './helpers.js'

afterAll(removeTempDirs)

const T0 = Date.UTC(2026, 10, 1)
const DAY = 86_400_000
const FEATURES = { x: 'double', s: 'string' } as const
const w = (p: Partial<FeatureWrite>): FeatureWrite => ({
  entity: 'u',
  feature: 'x',
  value: 1.5,
  eventTime: T0,
  version: 0,
  availableTime: T0,
  outcome: 'applied',
  ...p,
})

async function rows(log: Awaited<ReturnType<typeof parquetLog>>, o: { from?: number; to?: number } = {}) {
  const out: FeatureWrite[] = []
  for await (const b of log.scanRows({ features: Object.keys(FEATURES), includeStale: true, ...o }))
    out.push(...b)
  return out
}

/** A log with a dead-letter sink, and an innocent append grouped into the same commit as `bad`. */
async function appendNextToInnocent(encoder: ParquetEncoder, bad: FeatureWrite[]) {
  const dir = await tempDir()
  const dead: RejectedWrite[] = []
  const log = await parquetLog({
    dir,
    encoder,
    features: FEATURES,
    deadLetters: { write: (b) => void dead.push(...b), flush: async () => {}, close: async () => {} },
  })
  const results = await Promise.allSettled([
    log.append([w({ entity: 'innocent' })]),
    log.append([...bad, w({ entity: 'good-neighbour' })]),
  ])
  return { log, dead, results }
}

describe('records the Parquet layout cannot store are dead-lettered, never poison a commit or change silently', () => {
  it.each([
    ['past the range of a Date', 9_000_000_000_000_000],
    ['in year 10000', Date.UTC(10000, 0, 5)],
    ['before year 0', Date.UTC(-1, 0, 5)],
  ])(
    'an eventTime %s is rejected as invalid-time (its date= partition has no YYYY-MM-DD name)',
    async (_, eventTime) => {
      const { log, dead, results } = await appendNextToInnocent('parquet-wasm', [w({ eventTime })])
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled'])
      expect(dead.map((d) => d.code)).toEqual(['invalid-time'])
      expect((await rows(log)).map((r) => r.entity).sort()).toEqual(['good-neighbour', 'innocent'])
      await log.close()
    },
  )

  it('eventTimes at the ends of years 0000 and 9999 are stored in their day and found by a pruned scan', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ dir, features: FEATURES })
    const first = Date.UTC(2000, 0, 1) - 2000 * 365.2425 * DAY // 0000-01-01
    const last = Date.UTC(9999, 11, 31, 23, 59, 59, 999)
    const times = [first, first + 17 * DAY, last, last - 17 * DAY]
    await log.append(times.map((t) => w({ entity: String(t), eventTime: t })))
    for (const t of times) {
      const got = await rows(log, { from: t, to: t + 1 })
      expect(got.map((r) => r.eventTime)).toEqual([t])
    }
    await log.close()
  })

  it('parquetjs-lite: a NaN double is rejected as invalid-value instead of failing the commit of other appends', async () => {
    const { log, dead, results } = await appendNextToInnocent('parquetjs-lite', [w({ value: Number.NaN })])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled'])
    expect(dead.map((d) => d.code)).toEqual(['invalid-value'])
    expect((await rows(log)).map((r) => r.entity).sort()).toEqual(['good-neighbour', 'innocent'])
    await log.close()
  })

  it('a string with a lone surrogate (entity or value) is rejected, not stored as U+FFFD', async () => {
    const { log, dead, results } = await appendNextToInnocent('parquet-wasm', [
      w({ entity: 'a\uD800' }),
      w({ feature: 's', value: 'b\uDC00' }),
      w({ entity: 'pair-is-fine-😀', feature: 's', value: '😀\uD83D\uDE00' }),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled'])
    expect(dead.map((d) => d.code)).toEqual(['invalid-value', 'invalid-value'])
    const got = await rows(log)
    expect(got.map((r) => r.entity).sort()).toEqual(['good-neighbour', 'innocent', 'pair-is-fine-😀'])
    expect(got.find((r) => r.feature === 's')?.value).toBe('😀😀')
    await log.close()
  })

  it('a feature name too long for a directory name is refused at open, not by every commit', async () => {
    const dir = await tempDir()
    await expect(parquetLog({ dir, features: { ['f'.repeat(250)]: 'double' } })).rejects.toMatchObject({
      code: 'invalid-definition',
    })
  })

  it('listFiles refuses an undeclared feature name instead of listing nothing', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ dir, features: FEATURES })
    await log.append([w({})])
    expect(await log.listFiles(['x'])).toHaveLength(1)
    await expect(log.listFiles(['X'])).rejects.toMatchObject({ code: 'invalid-argument' })
    await expect(log.listFiles('x' as never)).rejects.toMatchObject({ code: 'invalid-argument' })
    await log.close()
  })
})

describe('the sign of zero', () => {
  it.each(['parquet-wasm', 'parquetjs-lite'] as const)(
    'a double -0 comes back as -0; an int64 -0 as 0, the only integer zero INT64 has (README type table; %s)',
    async (encoder) => {
      const log = await parquetLog({ dir: await tempDir(), encoder, features: { d: 'double', n: 'int64' } })
      await log.append([w({ feature: 'd', value: -0 }), w({ feature: 'n', value: -0 })])
      const got = new Map<string, unknown>()
      for await (const b of log.scanRows({ features: ['d', 'n'] }))
        for (const r of b) got.set(r.feature, r.value)
      expect(Object.is(got.get('d'), -0)).toBe(true)
      expect(Object.is(got.get('n'), 0)).toBe(true)
      await log.close()
    },
  )
})
