/** Worker child processes of the tests: started under tsx from the repository root, stdout watched. */
import { type ChildProcess, spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { childArgs } from '../../../scripts/test-children.js'

const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = join(here, '../../..')
const alive = new Set<ChildProcess>()
process.once('exit', () => {
  for (const c of alive) c.kill('SIGKILL')
})

/** How a child ended. */
export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** A running worker process. */
export interface WorkerProcess {
  child: ChildProcess
  /** Its health server, once it printed it. */
  healthUrl: Promise<string>
  exited: Promise<Exit>
  /** Its stdout so far. */
  stdout(): string
  /** Its stderr so far (the worker's log lines). */
  stderr(): string
}

/** Run `script` (a path) from the repository root: its bundle when this run has one, else under tsx. */
export function startProcess(script: string, args: readonly string[]): WorkerProcess {
  const child = spawn(process.execPath, [...childArgs(script), ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  alive.add(child)
  let stdout = ''
  let stderr = ''
  let gotUrl: (u: string) => void = () => undefined
  let noUrl: (e: Error) => void = () => undefined
  const healthUrl = new Promise<string>((resolve, reject) => {
    gotUrl = resolve
    noUrl = reject
  })
  healthUrl.catch(() => undefined)
  child.stdout?.on('data', (d) => {
    stdout += String(d)
    const m = /^health (\S+)$/m.exec(stdout)
    if (m) gotUrl(m[1] as string)
  })
  child.stderr?.on('data', (d) => {
    stderr += String(d)
  })
  const exited = new Promise<Exit>((resolve) => {
    child.on('exit', (code, signal) => {
      alive.delete(child)
      noUrl(new Error(`the process exited (${code ?? signal}) before printing its health URL:\n${stderr}`))
      resolve({ code, signal, stdout, stderr })
    })
  })
  return { child, healthUrl, exited, stdout: () => stdout, stderr: () => stderr }
}

/** The child's exit, or an error after `ms` (the child is then killed). */
export async function exitWithin(p: WorkerProcess, ms: number): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      p.child.kill('SIGKILL')
      reject(new Error(`the process did not exit within ${ms} ms of its signal; stdout:\n${p.stdout()}`))
    }, ms)
  })
  try {
    return await Promise.race([p.exited, timeout])
  } finally {
    clearTimeout(timer)
  }
}

export const fixture = (name: string) => join(here, 'fixtures', name)
