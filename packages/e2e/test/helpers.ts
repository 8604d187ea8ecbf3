/** Child-process and Redis helpers of the end-to-end tests. */
import { type ChildProcess, spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { childArgs } from '../../../scripts/test-children.js'

const here = dirname(fileURLToPath(import.meta.url))
export const repoRoot = join(here, '../../..')

/** How a child life ended. */
export interface LifeEnd {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** A running fixture: its exit, and a way to wait for a line on its stdout. */
export interface Life {
  child: ChildProcess
  ended: Promise<LifeEnd>
  started: Promise<void>
}

/** Start `test/fixtures/<fixture>` (bundled once per run, else under tsx) with `args` and extra env. */
export function startFixture(fixture: string, args: string[], env: Record<string, string> = {}): Life {
  const child = spawn(process.execPath, [...childArgs(join(here, 'fixtures', fixture)), ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  let markStarted: () => void = () => undefined
  const started = new Promise<void>((resolve) => {
    markStarted = resolve
  })
  child.stdout?.on('data', (d) => {
    stdout += String(d)
    if (stdout.includes('started')) markStarted()
  })
  child.stderr?.on('data', (d) => {
    stderr += String(d)
  })
  const ended = new Promise<LifeEnd>((resolve) => {
    child.on('exit', (code, signal) => {
      markStarted()
      resolve({ code, signal, stdout, stderr })
    })
  })
  return { child, ended, started }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
