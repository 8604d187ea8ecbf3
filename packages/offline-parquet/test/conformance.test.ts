import { offlineLogSuite } from '@skewless/adapter-tests'
import { afterAll, it } from 'vitest'
import { parquetLog } from '../src/index.js'
import type { ParquetLog } from '../src/types.js'
import { removeTempDirs, tempDir } from './helpers.js'

afterAll(removeTempDirs)

offlineLogSuite(it, async (options) => parquetLog({ ...options, dir: await tempDir() }), {
  name: 'parquetLog (parquet-wasm)',
  reopen: async (log, options) => {
    await log.close()
    return parquetLog({ ...options, dir: (log as ParquetLog).dir })
  },
})

offlineLogSuite(
  it,
  async (options) => parquetLog({ ...options, dir: await tempDir(), encoder: 'parquetjs-lite' }),
  {
    name: 'parquetLog (parquetjs-lite)',
    negativeTimes: false,
    nanDoubles: false,
    reopen: async (log, options) => {
      await log.close()
      return parquetLog({ ...options, dir: (log as ParquetLog).dir, encoder: 'parquetjs-lite' })
    },
  },
)

offlineLogSuite(it, async (options) => parquetLog({ ...options, dir: await tempDir(), workers: 0 }), {
  name: 'parquetLog (parquet-wasm, encoding on the calling thread)',
})
