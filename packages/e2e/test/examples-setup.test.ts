/**
 * Any new `examples/<name>` works without a build: a probe example with nothing but a source file
 * and a test (no package.json, no tsconfig, no vitest config of its own) runs with `tsx` from its
 * directory against the packages' sources, and `vitest` run inside it finds its own test only.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify, stripVTControlCharacters } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { sourceAliases, workspaceEntries } from '../../../workspace-entries.ts'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
// examples/_* is git-ignored: a probe left by a killed run is never committed.
const PROBE = join(ROOT, 'examples', `_probe-${process.pid}`)

afterAll(() => rmSync(PROBE, { recursive: true, force: true }))

describe('examples/<name>', () => {
  it('every entry point in a package.json exports map is aliased to an existing source file', () => {
    const aliases = sourceAliases()
    expect(aliases.length).toBe(workspaceEntries().length)
    const adapter = aliases.filter((a) => a.find.test('@skewless/offline-log/adapter'))
    expect(adapter.map((a) => a.replacement)).toEqual([join(ROOT, 'packages/offline-log/src/adapter.ts')])
    expect(aliases.some((a) => a.find.test('@skewless/offline-log/internal-not-exported'))).toBe(false)
    for (const a of aliases) expect(existsSync(a.replacement), a.replacement).toBe(true)
  })

  it('run with tsx from their own directory and resolve main entries and subpaths to the sources', async () => {
    mkdirSync(join(PROBE, 'src'), { recursive: true })
    mkdirSync(join(PROBE, 'test'), { recursive: true })
    writeFileSync(
      join(PROBE, 'src/main.ts'),
      `import { toMs } from '@skewless/core'
import { LOG_COLUMNS } from '@skewless/offline-log/adapter'
console.log(JSON.stringify({ ms: toMs('2m'), columns: LOG_COLUMNS.length > 0,
  core: import.meta.resolve('@skewless/core'), adapter: import.meta.resolve('@skewless/offline-log/adapter') }))
`,
    )
    writeFileSync(
      join(PROBE, 'test/probe.test.ts'),
      `import { toMs } from '@skewless/core'
import { memoryLog } from '@skewless/offline-log'
import { checkRecord } from '@skewless/offline-log/adapter'
import { expect, it } from 'vitest'
it('probe', () => {
  expect(toMs('1s')).toBe(1000)
  expect(typeof memoryLog).toBe('function')
  expect(checkRecord({ entity: 'e', feature: 'f', value: 1, eventTime: 0, version: 0, availableTime: 0, outcome: 'applied' }, {})?.code).toBe('unknown-feature')
})
`,
    )
    const tsx = join(ROOT, 'node_modules/tsx/dist/cli.mjs')
    const { stdout } = await run(process.execPath, [tsx, 'src/main.ts'], { cwd: PROBE, timeout: 60_000 })
    const out = JSON.parse(stdout.trim())
    expect(out).toMatchObject({ ms: 120_000, columns: true })
    expect(fileURLToPath(out.core)).toBe(join(ROOT, 'packages/core/src/index.ts'))
    expect(fileURLToPath(out.adapter)).toBe(join(ROOT, 'packages/offline-log/src/adapter.ts'))

    const vitest = join(ROOT, 'node_modules/vitest/vitest.mjs')
    const res = await run(process.execPath, [vitest, 'run', '--reporter=verbose'], {
      cwd: PROBE,
      timeout: 90_000,
    })
    const text = stripVTControlCharacters(res.stdout)
    expect(text).toMatch(/probe\.test\.ts/)
    expect(text).toMatch(/Test Files\s+1 passed \(1\)/)
  }, 120_000)
})
