export { PartitionStopError } from './errors.js'
export { partitionLogDir } from './layout.js'
export type * from './types.js'
export { jsonLinesLogger, runWorker } from './worker.js'
