import { memoryLog } from '@skewless/offline-log'
import { it } from 'vitest'
import { offlineLogSuite } from '../src/offline/index.js'

offlineLogSuite(it, (options) => memoryLog(options), { name: 'memoryLog' })
