import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import projects from './vitest.workspace.ts'
import { sourceAliases } from './workspace-entries.ts'

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources, not dist: every entry point in a package's `exports`
    // (`@skewless/x` and subpaths such as `@skewless/x/adapter`) resolves to packages/x/src.
    alias: sourceAliases(),
  },
  test: {
    projects,
    // Bundles the tests' child processes once per run (absolute: each project resolves it from its own root).
    globalSetup: [fileURLToPath(new URL('./vitest.global-setup.ts', import.meta.url))],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
})
