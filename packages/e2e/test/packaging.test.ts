/**
 * What a user gets from npm: build the packages, pack them with `pnpm pack` (which rewrites
 * `workspace:^` to the real version range; `npm pack` keeps it and the tarball cannot be
 * installed), install the tarballs into a plain ESM project and a CommonJS project in a temp
 * directory outside the workspace (third-party dependencies come from the registry), then import
 * them there, main entries and the `/adapter` subpaths, at run time and with the TypeScript compiler.
 *
 * Slow by nature (a build of three packages with their declaration files, two `npm install`s and two
 * `tsc` runs); the timeouts are generous for loaded machines.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { toMs } from '@skewless/core'
import { isNewerVersion } from '@skewless/core/adapter'
import { LOG_SCHEMA_FIELDS } from '@skewless/offline-log/adapter'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { packageEntries } from '../../../workspace-entries.ts'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const PNPM = ['-y', 'pnpm@10.34.8']
/** The packages packed: core, a package with an `/adapter` subpath, and one with bundled ESM-only deps. */
const PACKAGES = ['core', 'offline-log', 'online-sink'] as const
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc')

interface Packed {
  readonly dir: string
  readonly name: string
  readonly tarball: string
  readonly manifest: { dependencies?: Record<string, string>; exports: Record<string, unknown> }
  readonly files: string[]
}

let tmp = ''
const packed: Packed[] = []

async function sh(cmd: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { cwd, maxBuffer: 64 * 1024 * 1024, timeout: 600_000 })
    return stdout
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string }
    throw new Error(
      `${cmd} ${args.join(' ')} (in ${cwd}) failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`,
    )
  }
}

/** Every file path an `exports` map points at (conditions nested any depth). */
function exportTargets(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (value && typeof value === 'object') return Object.values(value).flatMap(exportTargets)
  return []
}

function project(name: string, type: 'module' | 'commonjs', files: Record<string, string>): string {
  const dir = join(tmp, name)
  mkdirSync(dir)
  const dependencies = Object.fromEntries(packed.map((p) => [p.name, `file:${relative(dir, p.tarball)}`]))
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name, private: true, type, dependencies }, null, 2),
  )
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text)
  return dir
}

async function npmInstall(dir: string): Promise<void> {
  await sh(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'],
    dir,
  )
}

// The consumer code: a memory log written through the main entry and read through the adapter
// subpath's helpers; the log's error is both its package's class and core's base class; core's
// record order from core's adapter subpath.
const USE = `
const log = memoryLog({ features: { clicks: 'int64' } })
await log.append([{ entity: 'u1', feature: 'clicks', value: 3, eventTime: 1000, version: 0, availableTime: 1020, outcome: 'applied' }])
const state = []
for await (const batch of log.scan({ features: ['clicks'] })) state.push(...recordBatchToWrites(batch))
const checked = checkRecord(state[0], { clicks: 'int64' })
const refused = checkRecord({ ...state[0], feature: 'nope' }, { clicks: 'int64' })?.code
let typed = false
try { await log.append([{ ...state[0], feature: 'nope' }]) } catch (e) { typed = e instanceof InvalidRecordError && e instanceof SkewlessError }
const group = defineFeatures({ entity: (e) => e.u, eventTime: (e) => e.t, features: { clicks: { window: unbounded(), aggregate: count() } } })
const store = memoryStore()
const features = onlineFeatures(group.describe())
const sink = onlineSink({ store, features })
await createPipeline({ source: [{ u: 'u1', t: 1000 }, { u: 'u1', t: 2000 }], features: group, sink }).run()
await sink.close()
const [vector] = await onlineReader({ store, features }).get(['u1'], ['clicks'])
await store.close()
console.log(JSON.stringify({ rows: state.length, value: state[0].value, checked: checked === undefined, refused, typed, fields: LOG_SCHEMA_FIELDS.length, served: vector.values.clicks.value, ms: toMs('1h'), newer: isNewerVersion(2, 0, 1, 5) }))
`

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'skewless-pack-'))
  const tarballs = join(tmp, 'tarballs')
  mkdirSync(tarballs)
  // Build what is packed (and the packages it depends on, in dependency order).
  await sh('npx', [...PNPM, ...PACKAGES.flatMap((p) => ['--filter', `@skewless/${p}...`]), 'build'], ROOT)
  for (const p of PACKAGES) {
    const dir = join(ROOT, 'packages', p)
    const before = new Set(readdirSync(tarballs))
    await sh('npx', [...PNPM, 'pack', '--pack-destination', tarballs], dir)
    const file = readdirSync(tarballs).find((f) => !before.has(f))
    if (!file) throw new Error(`pnpm pack wrote no tarball for ${p}`)
    const tarball = join(tarballs, file)
    const manifest = JSON.parse(await sh('tar', ['-xzOf', tarball, 'package/package.json'], tmp))
    const files = (await sh('tar', ['-tzf', tarball], tmp)).trim().split('\n')
    packed.push({ dir, name: manifest.name, tarball, manifest, files })
  }
}, 600_000)

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true })
})

describe('packed tarballs', () => {
  it('have real version ranges instead of workspace: and ship every file their exports name', () => {
    expect(packed.map((p) => p.name)).toEqual(PACKAGES.map((p) => `@skewless/${p}`))
    for (const p of packed) {
      for (const [dep, range] of Object.entries(p.manifest.dependencies ?? {})) {
        expect(range, `${p.name} -> ${dep}`).not.toMatch(/^workspace:/)
      }
      for (const target of exportTargets(p.manifest.exports)) {
        expect(p.files, `${p.name}: ${target}`).toContain(`package/${target.slice(2)}`)
      }
      // Every subpath in exports is an entry point built from its own source file.
      for (const e of packageEntries(p.dir)) expect(existsSync(join(p.dir, e.source)), e.source).toBe(true)
    }
    expect(Object.keys(packed[1]?.manifest.exports ?? {})).toContain('./adapter')
  })

  it('install and import in a plain ESM project and a CommonJS project outside the workspace', async () => {
    const esm = project('esm-app', 'module', {
      'main.js': `import { count, createPipeline, defineFeatures, SkewlessError, toMs, unbounded } from '@skewless/core'
import { InvalidRecordError, memoryLog, recordBatchToWrites } from '@skewless/offline-log'
import { isNewerVersion } from '@skewless/core/adapter'
import { checkRecord, LOG_SCHEMA_FIELDS } from '@skewless/offline-log/adapter'
import { memoryStore, onlineFeatures, onlineReader, onlineSink } from '@skewless/online-sink'
${USE}`,
    })
    const cjs = project('cjs-app', 'commonjs', {
      'main.js': `const { count, createPipeline, defineFeatures, SkewlessError, toMs, unbounded } = require('@skewless/core')
const { InvalidRecordError, memoryLog, recordBatchToWrites } = require('@skewless/offline-log')
const { isNewerVersion } = require('@skewless/core/adapter')
const { checkRecord, LOG_SCHEMA_FIELDS } = require('@skewless/offline-log/adapter')
const { memoryStore, onlineFeatures, onlineReader, onlineSink } = require('@skewless/online-sink')
;(async () => {${USE}})().catch((e) => { console.error(e); process.exit(1) })`,
    })
    // Independent projects (npm's cache takes concurrent installs): installed, and run below, at once.
    await Promise.all([npmInstall(esm), npmInstall(cjs)])
    expect(existsSync(join(esm, 'node_modules/@skewless/offline-log/dist/adapter.js'))).toBe(true)
    expect(existsSync(join(esm, 'node_modules/@skewless/core/dist/adapter.js'))).toBe(true)
    const expected = {
      rows: 1,
      value: 3,
      checked: true,
      refused: 'unknown-feature',
      typed: true,
      // What the same calls give on the workspace's sources.
      fields: LOG_SCHEMA_FIELDS.length,
      served: 2,
      ms: toMs('1h'),
      newer: isNewerVersion(2, 0, 1, 5),
    }
    const outs = await Promise.all([esm, cjs].map((dir) => sh(process.execPath, ['main.js'], dir)))
    outs.forEach((out, i) => {
      expect(JSON.parse(out.trim()), [esm, cjs][i]).toEqual(expected)
    })
  }, 150_000)

  it('type-check from the published declaration files (ESM and CommonJS, main entry and subpath)', async () => {
    const code = `import { type FeatureWrite, toMs } from '@skewless/core'
import { memoryLog, type OfflineLog } from '@skewless/offline-log'
import { type DeadLetterCounts, countDeadLetters } from '@skewless/core/adapter'
import { checkRecord } from '@skewless/offline-log/adapter'
import { memoryStore, type OnlineStore } from '@skewless/online-sink'
const log: OfflineLog = memoryLog({ features: { clicks: 'int64' } })
const store: OnlineStore = memoryStore()
const w: FeatureWrite = { entity: 'u', feature: 'clicks', value: 1, eventTime: 0, version: 0, availableTime: 0, outcome: 'applied' }
checkRecord(w, { clicks: 'int64' })
// @ts-expect-error test-only hooks are not on the memory store's public type
memoryStore().corrupt('e', 'f')
// @ts-expect-error the adapter helpers are not on the main entry
import('@skewless/offline-log').then((m) => m.checkRecord)
const dead: DeadLetterCounts = countDeadLetters(undefined).counts()
// @ts-expect-error helpers for adapter authors are not on core's main entry
import('@skewless/core').then((m) => m.countDeadLetters)
export const used: unknown[] = [log, store, toMs('1m'), dead]
`
    const tsconfig = JSON.stringify({
      compilerOptions: {
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        strict: true,
        noEmit: true,
        types: [],
        skipLibCheck: true,
        lib: ['es2023', 'dom'],
      },
      include: ['*.ts'],
    })
    const dirs = [join(tmp, 'esm-app'), join(tmp, 'cjs-app')]
    for (const dir of dirs) {
      writeFileSync(join(dir, 'use.ts'), code)
      writeFileSync(join(dir, 'tsconfig.json'), tsconfig)
    }
    await Promise.all(dirs.map((dir) => sh(process.execPath, [TSC, '-p', 'tsconfig.json'], dir)))
    // The check can fail: a name that is not exported is an error.
    writeFileSync(
      join(tmp, 'esm-app', 'use.ts'),
      `import { notExported } from '@skewless/offline-log/adapter'\nexport const x = notExported\n`,
    )
    await expect(sh(process.execPath, [TSC, '-p', 'tsconfig.json'], join(tmp, 'esm-app'))).rejects.toThrow(
      /notExported/,
    )
  }, 300_000)
})
