/**
 * `vitest` run inside `examples/<name>` finds this file (vitest looks for its config from the
 * current directory upwards, and this one is nearer than the repository's) and runs that example's
 * own tests, `examples/<name>/test/**`, against the packages' TypeScript sources: no build needed.
 * Run inside `examples/`, it runs every example's tests. An example may add its own
 * `vitest.config.ts` (it is then the nearest one); `mergeConfig` this one into it to keep the aliases.
 */
import { defineConfig } from 'vitest/config'
import { sourceAliases } from '../workspace-entries.ts'

export default defineConfig({
  resolve: {
    // Every `@skewless/...` entry point (main and subpaths) resolves to packages/<name>/src.
    alias: sourceAliases(),
  },
  test: {
    include: ['test/**/*.test.ts', '*/test/**/*.test.ts'],
    // The same limits as the repository's config (vitest.config.ts at the root).
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})
