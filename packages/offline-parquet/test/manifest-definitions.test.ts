/**
 * What the manifest records of each definition, and which changes it accepts: ttlMs, description,
 * owner and tags are recorded and may change (the rows stay valid); valueType, window, aggregate and
 * emit may not (`DefinitionChangedError`, saying to version or rename).
 */
import type { FeatureInfo } from '@skewless/core'
import { afterAll, describe, expect, it } from 'vitest'
import { DefinitionChangedError, parquetLog } from '../src/index.js'
import { removeTempDirs, tempDir } from './helpers.js'

afterAll(removeTempDirs)

const base: FeatureInfo = {
  name: 'amount_1h',
  valueType: 'double',
  window: { kind: 'hopping', sizeMs: 3_600_000, hopMs: 60_000 },
  aggregate: 'sum',
  emit: 'value',
  ttlMs: 7_200_000,
  description: 'spend in the last hour',
  owner: 'fraud-team',
  tags: ['fraud'],
}

async function recorded(dir: string, features: FeatureInfo[] | Record<string, 'double'>) {
  const log = await parquetLog({ dir, features })
  const d = (await log.describe()).features.find((f) => f.name === 'amount_1h')
  await log.close()
  return d
}

describe('definitions in the manifest', () => {
  it('records ttlMs, description, owner and tags; a type-map open leaves them as they are', async () => {
    const dir = await tempDir()
    expect(await recorded(dir, [base])).toEqual(base)
    expect(await recorded(dir, { amount_1h: 'double' })).toEqual(base)
  })

  it('a change of ttl, description, owner or tags is recorded, a removed TTL too', async () => {
    const dir = await tempDir()
    await recorded(dir, [base])
    const changed = {
      ...base,
      ttlMs: 600_000,
      description: 'hourly spend',
      owner: 'risk',
      tags: ['risk', 'pii'],
    }
    expect(await recorded(dir, [changed])).toEqual(changed)
    const { ttlMs: _dropped, ...noTtl } = changed
    expect(await recorded(dir, [noTtl])).toEqual(noTtl)
  })

  it('a change of what decides the rows is refused with how to version or rename', async () => {
    const dir = await tempDir()
    await recorded(dir, [base])
    const err = await parquetLog({ dir, features: [{ ...base, aggregate: 'mean', owner: 'x' }] }).catch(
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(DefinitionChangedError)
    expect((err as Error).message).toMatch(/amount_1h_v2/)
    expect((err as DefinitionChangedError).code).toBe('definition-changed')
    // The rest of the fix (what a change of ttl, description, owner or tags does) is in the README.
    expect((err as Error).message).toMatch(/"Errors" in the @skewless\/offline-parquet README/)
    // Refused means nothing recorded: the owner change that came with it is not in the manifest.
    expect(await recorded(dir, { amount_1h: 'double' })).toEqual(base)
  })
})
