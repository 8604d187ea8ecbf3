// Feature names become directory names: a name that could leave the log directory (traversal,
// absolute, Windows separators, Unicode look-alikes, NUL) is refused at open with a typed error,
// and nothing is created anywhere, inside the directory or outside it.
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { InvalidArgumentError, InvalidDefinitionError } from '@skewless/core'
import type { RejectedWrite } from '@skewless/offline-log'
import { afterAll, describe, expect, it } from 'vitest'
import { parquetLog } from '../src/index.js'
import { removeTempDirs, tempDir } from './helpers.js'

afterAll(removeTempDirs)

const T0 = Date.UTC(2026, 10, 1)
const HOSTILE = [
  '../x',
  '../../x',
  '/abs',
  '/tmp/x',
  'a\\b',
  '..\\x',
  'C:\\x',
  '..',
  '.',
  'x/',
  'x/../../y',
  '\u2024\u2024/x', // ONE DOT LEADER x2: looks like ../x
  '..\uff0fx', // FULLWIDTH SOLIDUS
  '..\u2215x', // DIVISION SLASH
  '\uff0e\uff0e', // FULLWIDTH FULL STOP x2
  'a\u0000b',
  '\u0000',
  'x\n..',
  '%2e%2e%2fx',
  '',
  ' ',
]

describe('feature names cannot escape the log directory', () => {
  it.each(HOSTILE.map((n) => [JSON.stringify(n), n]))(
    '%s is refused at open, nothing is created',
    async (_, name) => {
      const sandbox = await tempDir()
      const dir = join(sandbox, 'log', 'inner')
      const err = await parquetLog({ dir, features: { [name]: 'double' } }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(InvalidDefinitionError)
      expect((err as Error).message).toMatch(/cannot be a partition directory|needs a non-empty|name/)
      expect(readdirSync(sandbox)).toEqual([]) // not even the log directory
      expect(existsSync(join(sandbox, 'x'))).toBe(false)
    },
  )

  it('names of the allowed alphabet (letters, digits, _ . -) work and stay inside', async () => {
    const sandbox = await tempDir()
    const dir = join(sandbox, 'log')
    const log = await parquetLog({ dir, features: { 'a.b-c_D9': 'double', '...': 'double' } })
    await log.append([
      {
        entity: 'e',
        feature: 'a.b-c_D9',
        value: 1,
        eventTime: T0,
        version: 0,
        availableTime: T0,
        outcome: 'applied',
      },
      {
        entity: 'e',
        feature: '...',
        value: 2,
        eventTime: T0,
        version: 0,
        availableTime: T0,
        outcome: 'applied',
      },
    ])
    await log.close()
    expect(readdirSync(sandbox)).toEqual(['log'])
    expect(
      readdirSync(dir)
        .filter((d) => d.startsWith('feature='))
        .sort(),
    ).toEqual(['feature=...', 'feature=a.b-c_D9'])
  })

  it('an open log refuses hostile names in scans and appends without touching the file system', async () => {
    const sandbox = await tempDir()
    const dir = join(sandbox, 'log')
    const dead: RejectedWrite[] = []
    const log = await parquetLog({
      dir,
      features: { ok: 'double' },
      deadLetters: { write: (b) => void dead.push(...b), flush: async () => {}, close: async () => {} },
    })
    const before = readdirSync(dir).sort()
    for (const name of ['../x', '/abs', '..\uff0fx']) {
      const scan = async () => {
        for await (const _ of log.scan({ features: [name] })) {
          // draining
        }
      }
      await expect(scan()).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(log.listFiles([name])).rejects.toBeInstanceOf(InvalidArgumentError)
    }
    await log.append([
      {
        entity: 'e',
        feature: '../x',
        value: 1,
        eventTime: T0,
        version: 0,
        availableTime: T0,
        outcome: 'applied',
      },
    ])
    await log.flush()
    expect(dead.map((d) => d.code)).toEqual(['unknown-feature'])
    expect(readdirSync(dir).sort()).toEqual(before)
    await log.close()
    expect(readdirSync(sandbox)).toEqual(['log'])
  })
})
