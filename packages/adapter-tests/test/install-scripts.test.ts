// Supply chain: CI installs with the frozen lockfile, and no dependency runs an install script
// (preinstall / install / postinstall, or a binding.gyp that npm would build) unless it is in the
// allow-list below, which must equal pnpm's onlyBuiltDependencies and is explained in docs/security.md.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/** Packages allowed to run an install script, and why (docs/security.md repeats this). */
const ALLOWED: Record<string, string> = {
  '@biomejs/biome': 'dev only: picks the linter binary of this platform',
  esbuild: 'dev only (tsx, tsup, vitest): checks its platform binary',
  '@duckdb/node-bindings': 'dev only (tests, benchmarks): DuckDB native binding',
}

interface LockPackage {
  name: string
  version: string
}

/** The `packages:` section of pnpm-lock.yaml (lockfile v9): name and version of each. */
function lockPackages(): LockPackage[] {
  const text = readFileSync(join(ROOT, 'pnpm-lock.yaml'), 'utf8')
  const start = text.indexOf('\npackages:\n')
  const end = text.indexOf('\nsnapshots:\n')
  expect(start, 'pnpm-lock.yaml has no packages: section').toBeGreaterThan(0)
  const out: LockPackage[] = []
  for (const line of text.slice(start, end === -1 ? undefined : end).split('\n')) {
    const key = /^ {2}'?(@?[^\s@']+)@([^\s':]+)'?:$/.exec(line)
    if (key) out.push({ name: key[1] as string, version: key[2] as string })
  }
  return out
}

/** The installed copy of `name@version` in node_modules/.pnpm, if this platform installed it. */
function installedDir(name: string, version: string): string | undefined {
  const store = join(ROOT, 'node_modules/.pnpm')
  const prefix = `${name.replace('/', '+')}@${version}`
  const dir = readdirSync(store).find(
    (d) => d === prefix || d.startsWith(`${prefix}_`) || d.startsWith(`${prefix}(`),
  )
  if (dir === undefined) return undefined
  const pkg = join(store, dir, 'node_modules', name)
  return existsSync(join(pkg, 'package.json')) ? pkg : undefined
}

describe('dependency install scripts', () => {
  it('CI installs with the frozen lockfile', () => {
    expect(readFileSync(join(ROOT, '.ci/run'), 'utf8')).toMatch(/pnpm@[\d.]+ install --frozen-lockfile/)
  })

  it('the allow-list equals pnpm-workspace.yaml onlyBuiltDependencies', () => {
    const ws = readFileSync(join(ROOT, 'pnpm-workspace.yaml'), 'utf8')
    const m = /onlyBuiltDependencies:\n((?:\s+-.*\n?)+)/.exec(ws)
    const listed = (m?.[1] ?? '')
      .split('\n')
      .map((l) =>
        l
          .replace(/^\s*-\s*/, '')
          .replace(/["']/g, '')
          .trim(),
      )
      .filter(Boolean)
    expect(listed.sort()).toEqual(Object.keys(ALLOWED).sort())
  })

  it('no package of the lockfile has an install script beyond the allow-list', () => {
    const pkgs = lockPackages()
    expect(pkgs.length).toBeGreaterThan(100)
    const withScripts: string[] = []
    let checked = 0
    for (const p of pkgs) {
      // Packages for other platforms (os, cpu, libc) and unused optional ones are in the lockfile but
      // not installed here; nothing of theirs runs on this machine.
      const dir = installedDir(p.name, p.version)
      if (dir === undefined) continue
      checked++
      const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        scripts?: Record<string, string>
      }
      const s = json.scripts ?? {}
      const hooks = ['preinstall', 'install', 'postinstall'].filter((h) => typeof s[h] === 'string')
      if (existsSync(join(dir, 'binding.gyp')) && !hooks.includes('install')) hooks.push('binding.gyp')
      if (hooks.length > 0 && !(p.name in ALLOWED))
        withScripts.push(`${p.name}@${p.version}: ${hooks.join(', ')}`)
    }
    expect(checked).toBeGreaterThan(pkgs.length / 2)
    expect(
      withScripts,
      'dependencies with install scripts: review them, then add to ALLOWED, onlyBuiltDependencies and docs/security.md',
    ).toEqual([])
  })

  it('docs/security.md names every allowed package', () => {
    const doc = readFileSync(join(ROOT, 'docs/security.md'), 'utf8')
    for (const name of Object.keys(ALLOWED)) expect(doc).toContain(`\`${name}\``)
  })
})
