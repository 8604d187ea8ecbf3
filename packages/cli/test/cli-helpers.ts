/** Run the real `skewless` executable as a child process, on a real Parquet log made by the test. */
import { execFile } from 'node:child_process'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FeatureWrite } from '@skewless/core'
import { parquetLog } from '@skewless/offline-parquet'
import { childArgs } from '../../../scripts/test-children.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const bin = join(root, 'packages/cli/src/bin.ts')

/** What a run of the CLI printed and returned. */
export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/**
 * `skewless ...args`, from the repository root: the sources (@skewless/* resolve to them), bundled
 * once per run or under tsx (scripts/test-children.ts).
 */
export function skewless(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...childArgs(bin), ...args],
      { cwd: root, env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(error)
        else resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr })
      },
    )
  })
}

export const T0 = Date.UTC(2026, 10, 2, 9)
export const MIN = 60_000
export const FEATURES = { clicks: 'int64', spend: 'double' } as const

/**
 * A log of 2 features × 5 entities, one value per entity and minute for 3 hours, each readable 2 s
 * after its eventTime, appended in 6 commits (so each partition has several files to compact).
 */
export async function makeLog(dir: string): Promise<FeatureWrite[]> {
  const log = await parquetLog({ dir, features: FEATURES, workers: 0 })
  const all: FeatureWrite[] = []
  for (let chunk = 0; chunk < 6; chunk++) {
    const writes: FeatureWrite[] = []
    for (let m = chunk * 30; m < (chunk + 1) * 30; m++) {
      for (let e = 0; e < 5; e++) {
        const eventTime = T0 + m * MIN + e * 1000
        for (const feature of Object.keys(FEATURES)) {
          const value = feature === 'clicks' ? m % 7 : m * 1.5 + e
          writes.push({
            entity: `u${e}`,
            feature,
            value,
            eventTime,
            availableTime: eventTime + 2000,
            version: 0,
            outcome: 'applied',
          })
        }
      }
    }
    await log.append(writes)
    all.push(...writes)
  }
  await log.close()
  return all
}

/** Every committed .parquet file under `dir`. */
export async function parquetFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.parquet'))
      out.push(join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
  }
  return out
}
