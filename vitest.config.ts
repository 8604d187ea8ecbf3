import { availableParallelism } from 'node:os'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import { BaseSequencer, type TestSpecification } from 'vitest/node'
import projects from './vitest.workspace.ts'
import { sourceAliases } from './workspace-entries.ts'

/**
 * Longest files first over all projects: vitest's own order runs the projects one after another, by
 * name, so a long file of a late project can end the run alone while the other worker idles. By the
 * last run's duration where vitest's cache has it, else by size (a clean clone has no cache).
 */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const cache = this.ctx.cache
    const key = (f: TestSpecification) => `${f.project.name}:${relative(this.ctx.config.root, f.moduleId)}`
    return [...files].sort((a, b) => {
      const ra = cache.getFileTestResults(key(a))
      const rb = cache.getFileTestResults(key(b))
      if (ra && rb) {
        if (ra.failed !== rb.failed) return ra.failed ? -1 : 1 // failed first, as vitest does
        return rb.duration - ra.duration
      }
      if (ra || rb) return ra ? 1 : -1 // a file without a duration first
      return (cache.getFileStats(key(b))?.size ?? 0) - (cache.getFileStats(key(a))?.size ?? 0)
    })
  }
}

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
    // vitest's default is cores − 1 workers: 1 on a 2-core machine, where the files then run one at a
    // time while most of them wait on child processes, servers and timers. At least two forks keep
    // both cores busy without thrashing (each file may also start children).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    sequence: { sequencer: LongestFirst },
    reporters: ['default'],
  },
})
