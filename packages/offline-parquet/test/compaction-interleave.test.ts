import type { FeatureWrite } from '@skewless/core'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { parquetLog } from '../src/index.js'
import { removeTempDirs, tempDir } from './helpers.js'
import { logRows, multiset } from './rows.js'

afterAll(removeTempDirs)

/**
 * Gates on the commit path's file operations in `feature=p`, so a test can stop a commit at an exact
 * step: the first `ensureDir` after `dirGate` is armed, and every rename while `renames` is armed.
 */
const gates = vi.hoisted(() => ({
  dirGate: undefined as undefined | { entered: () => void; release: Promise<void> },
  renames: undefined as undefined | { src: string; go: () => void }[],
}))
vi.mock('../src/file-io.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/file-io.js')>()
  return {
    ...real,
    ensureDir: async (root: string, path: string) => {
      const g = gates.dirGate
      if (g && path.includes('feature=p')) {
        gates.dirGate = undefined
        g.entered()
        await g.release
      }
      return real.ensureDir(root, path)
    },
    rename: async (src: string, dst: string) => {
      const held = gates.renames
      if (held && dst.includes('feature=p')) await new Promise<void>((go) => held.push({ src, go }))
      return real.rename(src, dst)
    },
  }
})

const T0 = Date.UTC(2026, 10, 1)
const batch = (feature: string, k: number): FeatureWrite[] =>
  Array.from({ length: 3 }, (_, i) => ({
    entity: `e${i}`,
    feature,
    value: k * 10 + i,
    eventTime: T0 + k * 1000 + i,
    version: 0,
    availableTime: T0 + k * 1000 + i,
    outcome: 'applied',
  }))

const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 2))
}

describe('a compaction that commits while an append commit is still preparing', () => {
  it('does not wait for that commit, and commits land in call order: the next one waits, and no compaction takes their range', async () => {
    const dir = await tempDir()
    const log = await parquetLog({ dir, workers: 0, features: { p: 'double', q: 'double' } })
    await log.append(batch('q', 0))
    await log.append(batch('q', 1))
    await log.append(batch('p', 2)) // A

    // Commit C stops at its first await, before it takes a sequence number for its file.
    let entered!: () => void
    const enteredP = new Promise<void>((r) => {
      entered = r
    })
    let release!: () => void
    gates.dirGate = { entered, release: new Promise<void>((r) => (release = r)) }
    const c = log.append(batch('p', 3))
    await enteredP
    // A compaction of another feature reserves its output's sequence number now, and commits.
    expect(await log.compact({ features: ['q'], minFiles: 2 })).toMatchObject({ filesIn: 2 })

    // C goes on, but its rename is held; D, the next commit, waits for C (commits land in call order).
    gates.renames = []
    const d = log.append(batch('p', 4))
    release()
    await until(() => (gates.renames?.length ?? 0) === 1)
    const held = gates.renames as { src: string; go: () => void }[]
    let dDone = false
    void d.then(() => {
      dDone = true
    })
    await new Promise((r) => setTimeout(r, 50))
    expect(held.length).toBe(1) // D has not renamed anything: it waits for C
    expect(dDone).toBe(false)
    // A compaction of feature=p started now waits for C's renames, and never takes C's range early.
    const compaction = log.compact({ features: ['p'], minFiles: 2 })
    gates.renames = undefined
    held[0]?.go() // C
    await c
    await d
    await compaction
    const all = [0, 1].flatMap((k) => batch('q', k)).concat([2, 3, 4].flatMap((k) => batch('p', k)))
    expect(await logRows(log)).toEqual(multiset(all))
    await log.compact({ features: ['p'], minFiles: 2 })
    expect(await logRows(log)).toEqual(multiset(all))
    await log.close()
    const again = await parquetLog({ dir, features: { p: 'double', q: 'double' } })
    expect(await logRows(again)).toEqual(multiset(all))
    await again.close()
  })
})
