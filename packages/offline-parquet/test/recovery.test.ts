import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CorruptJournalError, parquetLog } from '../src/index.js'
import { FEATURES, mixedRecords } from './data.js'
import { removeTempDirs, tempDir } from './helpers.js'
import { logRows, multiset } from './rows.js'

afterAll(removeTempDirs)

/**
 * A log of an earlier version (no manifest) whose last multi-file commit crashed after its journal and before its renames: two of its
 * files are back under temp names and `_journal/commit-crash-1.json` lists their renames.
 */
async function crashedDuringRenames() {
  const dir = await tempDir()
  const recs = mixedRecords(40)
  const log = await parquetLog({ features: FEATURES, dir })
  await log.append(recs)
  await log.close()
  const files = await log.listFiles()
  const renames: [string, string][] = []
  for (const [i, f] of files.slice(0, 2).entries()) {
    const rel = f.slice(dir.length + 1)
    const tmp = join(rel, '..', `_tmp-crash-${i}.tmp`)
    await rename(f, join(dir, tmp))
    renames.push([tmp, rel])
  }
  // A log written before manifests: its multi-file commits were journaled (no manifest version).
  await rm(join(dir, '_skewless'), { recursive: true })
  const journal = join(dir, '_journal', 'commit-crash-1.json')
  await mkdir(join(dir, '_journal'), { recursive: true })
  return { dir, recs, renames, journal }
}

describe('a damaged commit journal', () => {
  it.each([
    ['truncated', (body: string) => body.slice(0, 25)],
    ['empty', () => ''],
    ['garbage', () => '\u0000\u0000\u0000\u0000'],
    ['valid JSON of another shape', () => '{"renames": 3}'],
    ['a rename out of the log layout', () => JSON.stringify({ files: [['../../x.tmp', '../../x']] })],
  ])(
    '(%s) refuses a writable open with CorruptJournalError naming the file, and deletes nothing',
    async (_, damage) => {
      const { dir, recs, renames, journal } = await crashedDuringRenames()
      await writeFile(journal, damage(JSON.stringify({ files: renames })))
      const before = (await readdir(dir, { recursive: true })).map(String).sort()

      const err = await parquetLog({ features: FEATURES, dir }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(CorruptJournalError)
      expect(err).toMatchObject({ code: 'corrupt-journal', file: journal })
      expect((err as Error).message).toContain(journal)
      expect((err as Error).message).toMatch(/restore|delete/)
      // The committed temp files the journal stood for are still there, and the lock was released.
      expect((await readdir(dir, { recursive: true })).map(String).sort()).toEqual(before)

      // A read-only open still works meanwhile (it sees the part of the commit that was renamed).
      const ro = await parquetLog({ features: FEATURES, dir, readOnly: true })
      expect(ro.recovery.tempFiles).toContain(journal)
      await ro.close()

      // Restoring the journal is what the message asks for; the next open rolls the commit forward.
      await writeFile(journal, JSON.stringify({ files: renames }))
      const log = await parquetLog({ features: FEATURES, dir })
      expect(log.recovery.replayedCommits).toBe(1)
      expect(await logRows(log)).toEqual(multiset(recs))
      await log.close()
    },
  )

  it('deleting it instead (the other way out the message gives) opens the log; the unrenamed temp files are removed', async () => {
    const { dir, journal } = await crashedDuringRenames()
    await writeFile(journal, '{"files": [[')
    await expect(parquetLog({ features: FEATURES, dir })).rejects.toMatchObject({ code: 'corrupt-journal' })
    await rm(journal)
    const log = await parquetLog({ features: FEATURES, dir })
    expect(log.recovery.tempFiles.map((f) => f.split('/').pop()).sort()).toEqual([
      '_tmp-crash-0.tmp',
      '_tmp-crash-1.tmp',
    ])
    await log.close()
  })
})
