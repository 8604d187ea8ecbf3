/**
 * The static checks of `test:all`, started at the same time: Biome, tsc, the docs' TypeScript blocks
 * and TypeDoc. Each is one mostly single-threaded process (tsc, the docs check and TypeDoc each type-check the
 * repository), so on 2 cores they end in about half the time they take one after another. Each
 * check's output is printed whole when it ends, with its status and time; the exit code is 1 if any
 * failed (after all have ended, so every failure is shown).
 *
 * `tsx scripts/checks.ts [name…]` runs the named checks only (biome, tsc, docs, typedoc).
 */
import { spawn } from 'node:child_process'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../', import.meta.url))

const CHECKS: Record<string, readonly string[]> = {
  biome: ['biome', 'check', '.'],
  tsc: ['tsc', '-p', 'tsconfig.json', '--noEmit'],
  docs: ['tsx', 'scripts/check-docs.ts'],
  typedoc: ['typedoc', '--emit', 'none'],
}

interface Result {
  name: string
  code: number | null
  ms: number
  output: string
}

function run(name: string, argv: readonly string[]): Promise<Result> {
  const t0 = performance.now()
  const [cmd, ...args] = argv as [string, ...string[]]
  // The local binaries first, as under `pnpm run`.
  const PATH = [join(ROOT, 'node_modules', '.bin'), process.env.PATH ?? ''].join(delimiter)
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, PATH, FORCE_COLOR: '0' } })
    let output = ''
    child.stdout.on('data', (d) => {
      output += String(d)
    })
    child.stderr.on('data', (d) => {
      output += String(d)
    })
    child.on('error', (e) => {
      output += `${e.message}\n`
    })
    child.on('close', (code) => resolve({ name, code, ms: performance.now() - t0, output }))
  })
}

const wanted = process.argv.slice(2)
for (const w of wanted) {
  if (!(w in CHECKS)) {
    console.error(`checks: unknown check '${w}' (known: ${Object.keys(CHECKS).join(', ')})`)
    process.exit(2)
  }
}
const names = wanted.length > 0 ? wanted : Object.keys(CHECKS)
const t0 = performance.now()
const results = await Promise.all(
  names.map((name) =>
    run(name, CHECKS[name] as readonly string[]).then((r) => {
      const status = r.code === 0 ? 'ok' : `FAILED (exit ${r.code})`
      process.stdout.write(
        `\n── ${r.name}: ${(CHECKS[r.name] as readonly string[]).join(' ')} — ${status} in ${(r.ms / 1000).toFixed(1)} s\n${r.output}`,
      )
      return r
    }),
  ),
)
const failed = results.filter((r) => r.code !== 0).map((r) => r.name)
console.log(
  `\nchecks: ${failed.length === 0 ? 'all passed' : `FAILED: ${failed.join(', ')}`} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
)
process.exitCode = failed.length === 0 ? 0 : 1
