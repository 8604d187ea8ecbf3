/**
 * Child processes of the tests without a TypeScript boot each. `node --import tsx child.ts` resolves
 * and transforms every module of the stack on every start (about a second on a loaded 2-core machine;
 * the suite starts a few hundred children: CLI runs, crash lives, killed workers). The vitest global
 * setup bundles the children the suite starts often, once per run, with the esbuild tsx itself runs
 * on; `childArgs(file)` runs a file's bundle when the run has one, else the file under tsx.
 *
 * A bundle runs the same sources: `@skewless/*` resolves to `packages/<name>/src` (tsconfig paths, as
 * under tsx), each module keeps its own `import.meta.url` (so `createRequire(import.meta.url)` and
 * paths next to a fixture resolve as before), and third-party packages are left to node, imported
 * from the file node itself resolves them to.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Plugin } from 'esbuild'

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../', import.meta.url))

/** Where the global setup puts this run's bundles (inherited by the test workers and their children). */
export const CHILDREN_ENV = 'SKEWLESS_TEST_CHILDREN'

/**
 * The children bundled once per run (relative to the root). Others (a child that re-imports its own
 * source under tsx, the pretenuring child whose code shape is what it measures, scripts the tests
 * write) run under tsx.
 */
export const BUNDLED_CHILDREN: readonly string[] = [
  'packages/cli/src/bin.ts',
  'packages/e2e/test/fixtures/crash-child.ts',
  'packages/e2e/test/fixtures/lifecycle-child.ts',
  'packages/e2e/test/fixtures/nats-worker-child.ts',
  'packages/offline-parquet/test/fixtures/crash-compactor.ts',
  'packages/offline-parquet/test/fixtures/crash-marks.ts',
  'packages/offline-parquet/test/fixtures/crash-writer.ts',
  'packages/offline-parquet/test/fixtures/lock-contender.ts',
  'packages/offline-parquet/test/fixtures/lock-open.ts',
  'packages/offline-parquet/test/fixtures/no-close.ts',
  'packages/offline-parquet/test/fixtures/scan-reader.ts',
  'packages/offline-parquet/test/fixtures/umask-writer.ts',
  'packages/worker/test/fixtures/worker-main.ts',
]

/** The bundle of `file` in `dir` (same relative path, `.mjs`). */
function bundleOf(dir: string, file: string): string {
  return join(dir, relative(ROOT, resolve(file)).replace(/\.ts$/, '.mjs'))
}

/**
 * The node arguments that run `file` (a TypeScript entry point): its bundle when this run built one,
 * else `--import tsx file`.
 */
export function childArgs(file: string): string[] {
  const dir = process.env[CHILDREN_ENV]
  if (dir) {
    const bundle = bundleOf(dir, file)
    if (existsSync(bundle)) return [bundle]
  }
  return ['--import', 'tsx', file]
}

const NESTED = Symbol('nested')

/** Third-party imports stay imports, of the file they resolve to (node's conditions: import, node). */
const externalPackages: Plugin = {
  name: 'external-packages',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, async (a) => {
      if (a.pluginData === NESTED || a.path.startsWith('@skewless/') || a.path.startsWith('node:')) return
      const r = await build.resolve(a.path, { kind: a.kind, resolveDir: a.resolveDir, pluginData: NESTED })
      if (r.errors.length > 0 || !r.path.includes('/node_modules/')) return // a builtin, or an error to report
      return { path: r.path, external: true }
    })
  },
}

/** Each source module keeps its own `import.meta.url`, as under tsx. */
const ownImportMeta: Plugin = {
  name: 'own-import-meta',
  setup(build) {
    build.onLoad({ filter: /\.[cm]?ts$/ }, async (a) => {
      if (a.path.includes('/node_modules/')) return
      const { readFile } = await import('node:fs/promises')
      const url = JSON.stringify(pathToFileURL(a.path).href)
      const contents = (await readFile(a.path, 'utf8')).replace(/\bimport\.meta\.url\b/g, url)
      return { contents, loader: 'ts' }
    })
  },
}

/**
 * Bundle `entries` (relative to the root) into a new temporary directory and return it, with the
 * esbuild the root declares (the version tsx runs, so bundles and tsx compile the same way).
 */
export async function bundleChildren(entries: readonly string[] = BUNDLED_CHILDREN): Promise<string> {
  const esbuild = await import('esbuild')
  const dir = mkdtempSync(join(tmpdir(), 'skewless-children-'))
  try {
    await esbuild.build({
      absWorkingDir: ROOT,
      entryPoints: entries.map((e) => join(ROOT, e)),
      outbase: ROOT,
      outdir: dir,
      outExtension: { '.js': '.mjs' },
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      tsconfig: join(ROOT, 'tsconfig.json'),
      conditions: ['node'],
      mainFields: ['main'],
      logLevel: 'error',
      plugins: [externalPackages, ownImportMeta],
    })
  } catch (e) {
    rmSync(dir, { recursive: true, force: true })
    throw e
  }
  return dir
}
