import { spawn, spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { childArgs } from '../../../scripts/test-children.js'

const dirs: string[] = []

/** A fresh temporary directory, removed by `removeTempDirs`. */
export async function tempDir(prefix = 'skewless-parquet-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix))
  dirs.push(d)
  return d
}

/** Remove every directory made by `tempDir`. */
export async function removeTempDirs(): Promise<void> {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
}

/** A pid that certainly ran and exited: a child we waited for. */
export const deadPid = (): number => spawnSync(process.execPath, ['-e', '0']).pid as number

/**
 * Run `test/fixtures/<fixture>` (bundled once per run, else under tsx: scripts/test-children.ts) in a child process (after `prefix`, e.g. `unshare --pid
 * --fork`) and resolve with its stdout; a non-zero exit rejects with its stderr.
 */
export function runFixture(fixture: string, args: string[], prefix: string[] = []): Promise<string> {
  const here = dirname(fileURLToPath(import.meta.url))
  const argv = [process.execPath, ...childArgs(join(here, 'fixtures', fixture)), ...args]
  const [cmd, ...rest] = [...prefix, ...argv] as [string, ...string[]]
  return new Promise<string>((resolve, reject) => {
    const child = spawn(cmd, rest, { cwd: join(here, '../../..') })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += String(d)
    })
    child.stderr.on('data', (d) => {
      stderr += String(d)
    })
    child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`exit ${code}: ${stderr}`))))
  })
}
