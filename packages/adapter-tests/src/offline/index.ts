export { OFFLINE_SUITE_FEATURES, referenceStateAt } from './fixtures.js'
export { type OfflineLogFactory, type OfflineLogSuiteOptions, offlineLogSuite } from './suite.js'
