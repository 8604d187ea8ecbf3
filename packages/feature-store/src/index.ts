export { UnsupportedOperationError } from './errors.js'
export { featureStore } from './feature-store.js'
export type * from './types.js'
