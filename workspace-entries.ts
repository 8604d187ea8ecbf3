/**
 * The entry points of every package, read from each `package.json` `exports` map: the one list
 * that tsup (what to build), vitest (what to alias to the TypeScript sources) and the packaging
 * test (what must install and import) agree on. An export `"./adapter"` is built from
 * `src/adapter.ts`; `"."` from `src/index.ts`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** One public entry point of one package. */
export interface PackageEntry {
  /** The import specifier, e.g. `@skewless/offline-log/adapter`. */
  readonly specifier: string
  /** The subpath in the `exports` map, e.g. `./adapter` (or `.`). */
  readonly subpath: string
  /** The source file it is built from, relative to the package directory, e.g. `src/adapter.ts`. */
  readonly source: string
}

/** The source file an `exports` subpath is built from: `.` → `src/index.ts`, `./x` → `src/x.ts`. */
export function entrySource(subpath: string): string {
  return subpath === '.' ? 'src/index.ts' : `src/${subpath.slice(2)}.ts`
}

/** The entry points a package declares (its `exports` keys other than `./package.json`). */
export function packageEntries(packageDir: string): PackageEntry[] {
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    name: string
    exports?: Record<string, unknown>
  }
  return Object.keys(manifest.exports ?? {})
    .filter((subpath) => subpath !== './package.json')
    .map((subpath) => ({
      specifier: subpath === '.' ? manifest.name : `${manifest.name}${subpath.slice(1)}`,
      subpath,
      source: entrySource(subpath),
    }))
}

/** The packages directory of this repository. */
export const PACKAGES_DIR = fileURLToPath(new URL('./packages/', import.meta.url))

/** Every entry point of every package under `packages/`, with the absolute path of its source. */
export function workspaceEntries(packagesDir = PACKAGES_DIR): (PackageEntry & { readonly file: string })[] {
  return readdirSync(packagesDir)
    .filter((name) => existsSync(join(packagesDir, name, 'package.json')))
    .flatMap((name) =>
      packageEntries(join(packagesDir, name)).map((e) => ({ ...e, file: join(packagesDir, name, e.source) })),
    )
}

/** Vite/vitest aliases that resolve every `@skewless/...` entry point to its TypeScript source. */
export function sourceAliases(packagesDir = PACKAGES_DIR): { find: RegExp; replacement: string }[] {
  return workspaceEntries(packagesDir).map((e) => ({
    find: new RegExp(`^${e.specifier.replace(/[/.-]/g, '\\$&')}$`),
    replacement: e.file,
  }))
}
