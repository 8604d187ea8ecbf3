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
  'worker',
] as const

/**
 * Examples under `examples/<name>` with tests in `examples/<name>/test`: add a name here (the project
 * is named `example-<name>`, e.g. `vitest run --project example-fraud`).
 */
const examples: readonly string[] = ['quickstart', 'fraud', 'serving', 'clickstream', 'prometheus']

const project = (name: string, root: string) => ({
  extends: true as const,
  test: {
    name,
    root,
    include: ['test/**/*.test.ts'],
  },
})

export default [
  ...packages.map((name) => project(name, `packages/${name}`)),
  ...examples.map((name) => project(`example-${name}`, `examples/${name}`)),
]
