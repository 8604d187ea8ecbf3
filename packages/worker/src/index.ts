export { PartitionStopError } from './errors.js'
export { partitionLogDir } from './partition-log-dir.js'
export type * from './types.js'
export { jsonLinesLogger, runWorker } from './worker.js'
