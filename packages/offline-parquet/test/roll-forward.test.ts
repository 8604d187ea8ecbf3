import { mkdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parquetLog, RollForwardError } from '../src/index.js'
import { FEATURES, mixedRecords } from './data.js'
import { removeTempDirs, tempDir } from './helpers.js'
import { logRows, multiset } from './rows.js'

afterAll(removeTempDirs)

/** A log of 6 files (two features over three days) in one commit. */
async function oneCommit() {
  const dir = await tempDir()
  const recs = mixedRecords(24).filter((r) => r.feature === 'clicks' || r.feature === 'spend')
  const log = await parquetLog({ features: FEATURES, dir })
  await log.append(recs)
  await log.close()
  return { dir, recs, files: await log.listFiles() }
}

describe('rolling a commit forward when one of its files is gone', () => {
  it('a journal (log written before manifests) that lists a temp file deleted meanwhile: RollForwardError naming the journal, not a silent loss', async () => {
    const { dir, recs, files } = await oneCommit()
    expect(files).toHaveLength(6)
    await rm(join(dir, '_skewless'), { recursive: true })
    // crashed after its journal, before its renames: every file back under a temp name
    const renames: [string, string][] = []
    for (const [i, f] of files.entries()) {
      const rel = f.slice(dir.length + 1)
      const tmp = join(rel, '..', `_tmp-crash-${i}.tmp`)
      await rename(f, join(dir, tmp))
      renames.push([tmp, rel])
    }
    const journal = join(dir, '_journal', 'commit-crash-1.json')
    await mkdir(join(dir, '_journal'), { recursive: true })
    await writeFile(journal, JSON.stringify({ files: renames }))
    await unlink(join(dir, (renames[3] as [string, string])[0])) // an operator "cleans up" a temp file
    const err = await parquetLog({ features: FEATURES, dir }).catch((e) => e)
    expect(err).toBeInstanceOf(RollForwardError)
    expect(err).toMatchObject({ code: 'roll-forward-failed', commit: journal, path: renames[3]?.[1] })
    expect((err as Error).message).toContain('acceptLostFiles')
    // the way out: accept the loss of that file; the commit's other files stay
    const log = await parquetLog({ features: FEATURES, dir, acceptLostFiles: [renames[3]?.[1] as string] })
    const lostRows = (await logRows(log)).length
    expect(lostRows).toBeLessThan(recs.length)
    expect(lostRows).toBeGreaterThan(0)
    await log.close()
  })

  it('the newest manifest version: its temp files are renamed on open; a temp file that is gone is a RollForwardError naming the version', async () => {
    const { dir, recs, files } = await oneCommit()
    const version = JSON.parse(
      await readFile(join(dir, '_skewless/manifest/00000000000000000001.json'), 'utf8'),
    )
    // the state of a crash after the version was written, before the renames
    for (const a of version.add as { path: string; tmp: string }[])
      await rename(join(dir, a.path), join(dir, a.tmp))
    const ro = await parquetLog({ features: FEATURES, dir, readOnly: true })
    expect(await logRows(ro)).toEqual([]) // a reader sees none of the unfinished commit
    const log = await parquetLog({ features: FEATURES, dir })
    expect(log.recovery.replayedCommits).toBe(1)
    expect(await logRows(log)).toEqual(multiset(recs))
    await log.close()
    for (const a of version.add as { path: string; tmp: string }[])
      await rename(join(dir, a.path), join(dir, a.tmp))
    await unlink(join(dir, version.add[0].tmp))
    const err = await parquetLog({ features: FEATURES, dir }).catch((e) => e)
    expect(err).toBeInstanceOf(RollForwardError)
    expect(err).toMatchObject({ path: version.add[0].path })
    expect((err as RollForwardError).commit).toMatch(/_skewless\/manifest\/00000000000000000001\.json$/)
    expect(files).toHaveLength(6)
  })
})
