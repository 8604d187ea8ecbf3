export {
  OFFLINE_SUITE_FEATURES,
  type OfflineLogFactory,
  type OfflineLogSuiteOptions,
  offlineLogMarksTests,
  offlineLogReadTests,
  offlineLogSuite,
  offlineLogWriteTests,
  referenceStateAt,
} from './offline/index.js'
export {
  ALL_SUITE_FEATURES,
  type CasPropertyOptions,
  checkCasConvergence,
  freeLoopbackPort,
  type OnlineStoreFactory,
  type OnlineStoreSuiteOptions,
  onlineStoreCapabilityTests,
  onlineStoreChangelogTests,
  onlineStoreCoreTests,
  onlineStorePropertySuite,
  onlineStoreSinkTests,
  onlineStoreSuite,
  onlineStoreTilePruneTests,
  type RedisClusterHandle,
  type RedisServerHandle,
  redisRawCommand,
  type StartRedisClusterOptions,
  type StartRedisOptions,
  SUITE_FEATURES,
  startRedis,
  startRedisCluster,
  upd,
} from './online/index.js'
export { type MetricPoint, metricValue, pointsOf, type TestMeter, testMeter } from './telemetry.js'
export { type CertFiles, makeTestCa, type TestCa } from './tls-certs.js'
export type { TestFn } from './types.js'
