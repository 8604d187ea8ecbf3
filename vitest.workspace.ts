/**
 * The one list of test projects. The root `vitest.config.ts` reads it into `test.projects`
 * (the standalone workspace file is deprecated in current vitest).
 */
const packages = [
  'core',
  'online-sink',
  'online-redis',
  'offline-log',
  'offline-parquet',
  'asof-join',
  'adapter-tests',
  'freshness',
  'cli',
  'source-nats',
  'e2e',
  'feature-store',
] as const

export default packages.map((name) => ({
  extends: true as const,
  test: {
    name,
    root: `packages/${name}`,
    include: ['test/**/*.test.ts'],
  },
}))
