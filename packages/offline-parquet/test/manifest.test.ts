import { readdir, readFile, rename, rm, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { FeatureInfo, FeatureWrite } from '@skewless/core'
import { afterAll, describe, expect, it } from 'vitest'
import { DefinitionChangedError, ForeignFileError, MissingFileError, parquetLog } from '../src/index.js'
import { FEATURES, mixedRecords } from './data.js'
import { removeTempDirs, tempDir } from './helpers.js'
import { logRows, multiset } from './rows.js'

afterAll(removeTempDirs)

const T0 = Date.UTC(2026, 10, 1)
const rec = (entity: string, eventTime: number, value = 1): FeatureWrite => ({
  entity,
  feature: 'clicks',
  value,
  eventTime,
  version: 0,
  availableTime: eventTime + 1,
  outcome: 'applied',
})
const manifestDir = (dir: string) => join(dir, '_skewless', 'manifest')

describe('the manifest', () => {
  it('records every commit as a numbered version: files with rows, bytes and time bounds, marks, definitions', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ features: FEATURES, dir })
    await log.append([rec('a', T0), rec('b', T0 + 86_400_000)])
    await log.appendMarked([], { marks: { changelog: '5-0' } })
    expect((await readdir(manifestDir(dir))).sort()).toEqual([
      '00000000000000000000.json',
      '00000000000000000001.json',
      '00000000000000000002.json',
    ])
    const v1 = JSON.parse(await readFile(join(manifestDir(dir), '00000000000000000001.json'), 'utf8'))
    expect(v1.add).toHaveLength(2)
    expect(v1.add[0]).toMatchObject({ rows: 1, minEventTime: T0, maxEventTime: T0, minAvailableTime: T0 + 1 })
    expect(v1.add[0].bytes).toBeGreaterThan(100)
    const d = await log.describe()
    expect(d).toMatchObject({ version: 2, marks: { changelog: '5-0' }, files: 2, rows: 2 })
    expect(d.features.map((f) => f.name).sort()).toEqual(Object.keys(FEATURES).sort())
    await log.close()
  })

  it('opening reads the latest snapshot and the versions after it; older versions are removed', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ features: FEATURES, dir, manifestSnapshotEvery: 5 })
    for (let i = 0; i < 23; i++) await log.appendMarked([rec(`e${i}`, T0 + i)], { marks: { changelog: i } })
    await log.close()
    const names = (await readdir(manifestDir(dir))).sort()
    expect(names.filter((n) => n.endsWith('.checkpoint.json'))).toEqual([
      '00000000000000000015.checkpoint.json',
      '00000000000000000020.checkpoint.json',
    ])
    // versions after the previous snapshot stay (a reader that loaded it finds its next ones)
    expect(names.filter((n) => !n.includes('checkpoint'))[0]).toBe('00000000000000000016.json')
    const again = await parquetLog({ features: FEATURES, dir })
    expect(await again.readMarks()).toEqual({ changelog: 22 })
    expect(await again.describe()).toMatchObject({ version: 23, files: 23, rows: 23 })
    expect((await logRows(again)).length).toBe(23)
    await again.close()
  })

  it('a log written before manifests is migrated: version 0 lists the files present', async () => {
    const dir = await tempDir()
    const recs = mixedRecords(200)
    const log = await parquetLog({ features: FEATURES, dir })
    await log.append(recs)
    await log.close()
    await rm(join(dir, '_skewless'), { recursive: true })
    // a read-only open of it reads what the names say, as before
    const ro = await parquetLog({ features: FEATURES, dir, readOnly: true })
    expect(await logRows(ro)).toEqual(multiset(recs))
    expect((await ro.describe()).version).toBe(-1)
    const again = await parquetLog({ features: FEATURES, dir })
    const d = await again.describe()
    expect(d).toMatchObject({ version: 0, files: (await again.listFiles()).length, rows: null })
    expect(await logRows(again)).toEqual(multiset(recs))
    await again.append([rec('later', T0)])
    expect((await logRows(again)).length).toBe(recs.length + 1)
    await again.close()
  })

  it('a deleted committed file: scan and stateAt throw MissingFileError naming it, compact refuses, acceptLostFiles records the loss', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ features: FEATURES, dir })
    for (let i = 0; i < 5; i++) await log.append([rec(`e${i}`, T0 + i, i)])
    const files = await log.listFiles(['clicks'])
    const victim = files[2] as string
    await unlink(victim)
    const scan = async () => {
      for await (const _ of log.scan({ features: ['clicks'] })) void _
    }
    const err = await scan().catch((e) => e)
    expect(err).toBeInstanceOf(MissingFileError)
    expect(err).toMatchObject({ code: 'missing-file', file: victim, path: victim.slice(dir.length + 1) })
    expect((err as Error).message).toContain('acceptLostFiles')
    await expect(log.stateAt(T0 + 10, { features: ['clicks'] })).rejects.toBeInstanceOf(MissingFileError)
    // compaction must not make the loss permanent
    await expect(log.compact({ minFiles: 2 })).rejects.toBeInstanceOf(MissingFileError)
    expect(await log.listFiles(['clicks'])).toHaveLength(4)
    // other features are unaffected
    for await (const _ of log.scan({ features: ['spend'] })) void _
    await log.close()
    const again = await parquetLog({
      features: FEATURES,
      dir,
      acceptLostFiles: [(err as MissingFileError).path],
    })
    expect((await again.stateAt(T0 + 10, { features: ['clicks'] })).map((r) => r.value)).toEqual([0, 1, 3, 4])
    expect(await again.compact({ minFiles: 2 })).toMatchObject({ filesIn: 4, filesOut: 1 })
    expect((await logRows(again)).length).toBe(4)
    expect(await again.describe()).toMatchObject({ files: 1, rows: 4 })
    await again.close()
  })

  it('a file no manifest version lists: scan and compact throw ForeignFileError naming it', async () => {
    const dir = await tempDir()
    const other = await tempDir()
    const src = await parquetLog({ features: FEATURES, dir: other })
    await src.append([rec('foreign', T0 + 5, 9)])
    const [file] = await src.listFiles(['clicks'])
    await src.close()
    const log = await parquetLog({ features: FEATURES, dir })
    for (let i = 0; i < 4; i++) await log.append([rec(`e${i}`, T0 + i, i)])
    // a valid log file of this library, copied in by hand
    const copied = join(dir, 'feature=clicks', 'date=2026-11-01', (file as string).split('/').pop() as string)
    await rename(file as string, copied)
    const err = await (async () => {
      for await (const _ of log.scan({ features: ['clicks'] })) void _
    })().catch((e) => e)
    expect(err).toBeInstanceOf(ForeignFileError)
    expect(err).toMatchObject({ code: 'foreign-file', file: copied })
    await expect(log.compact({ minFiles: 2 })).rejects.toBeInstanceOf(ForeignFileError)
    await unlink(copied)
    expect(await log.compact({ minFiles: 2 })).toMatchObject({ filesIn: 4 })
    await log.close()
  })

  it('opening with a changed definition of a recorded feature is a DefinitionChangedError; describe() returns what is recorded', async () => {
    const dir = await tempDir()
    const info = (p: Partial<FeatureInfo>): FeatureInfo => ({
      name: 'clicks_1h',
      valueType: 'int64',
      window: { kind: 'hopping', sizeMs: 3_600_000, hopMs: 60_000 },
      aggregate: 'count',
      emit: 'value',
      ...p,
    })
    const log = await parquetLog({ features: [info({})], dir })
    await log.close()
    for (const changed of [
      info({ valueType: 'double' }),
      info({ window: { kind: 'hopping', sizeMs: 7_200_000, hopMs: 60_000 } }),
      info({ aggregate: 'sum' }),
      info({ emit: 'tiles' }),
    ]) {
      const err = await parquetLog({ features: [changed], dir }).catch((e) => e)
      expect(err).toBeInstanceOf(DefinitionChangedError)
      expect(err).toMatchObject({ code: 'definition-changed', feature: 'clicks_1h' })
      expect((err as Error).message).toMatch(/clicks_1h_v2/)
      await expect(parquetLog({ features: [changed], dir, readOnly: true })).rejects.toBeInstanceOf(
        DefinitionChangedError,
      )
    }
    // a plain type map (a reader) and a new feature are fine; the new one is recorded
    const more = await parquetLog({
      features: [info({}), info({ name: 'spend_1d', valueType: 'double' })],
      dir,
    })
    await more.close()
    const reader = await parquetLog({ features: { clicks_1h: 'int64' }, dir, readOnly: true })
    const d = await reader.describe()
    expect(d.features.find((f) => f.name === 'clicks_1h')).toEqual(info({}))
    expect(d.features.map((f) => f.name).sort()).toEqual(['clicks_1h', 'spend_1d'])
  })

  it('a torn newest version (a crash while writing it) is not a commit: the next open drops it and its temp files', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ features: FEATURES, dir })
    await log.appendMarked([rec('a', T0)], { marks: { changelog: 1 } })
    await log.close()
    const { writeFile } = await import('node:fs/promises')
    await writeFile(
      join(manifestDir(dir), '00000000000000000002.json'),
      '{"format":"skewless.manifest/1","vers',
    )
    const ro = await parquetLog({ features: FEATURES, dir, readOnly: true })
    expect(await ro.readMarks()).toEqual({ changelog: 1 })
    const again = await parquetLog({ features: FEATURES, dir })
    await again.appendMarked([rec('b', T0 + 1)], { marks: { changelog: 2 } })
    expect(await again.readMarks()).toEqual({ changelog: 2 })
    expect((await logRows(again)).length).toBe(2)
    await again.close()
  })
})
