export { OFFLINE_SUITE_FEATURES, referenceStateAt } from './fixtures.js'
export {
  type OfflineLogFactory,
  type OfflineLogSuiteOptions,
  offlineLogMarksTests,
  offlineLogReadTests,
  offlineLogSuite,
  offlineLogWriteTests,
} from './suite.js'
