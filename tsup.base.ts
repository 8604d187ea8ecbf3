import type { Options } from 'tsup'
import { packageEntries } from './workspace-entries'

/**
 * The package's entry points, from its `package.json` `exports` (`.` → `src/index.ts`,
 * `./adapter` → `src/adapter.ts`), so a subpath added to `exports` is built without another list.
 * tsup runs in the package directory.
 */
function entries(): Record<string, string> {
  return Object.fromEntries(
    packageEntries(process.cwd()).map((e) => [e.subpath === '.' ? 'index' : e.subpath.slice(2), e.source]),
  )
}

/**
 * Shared tsup options: every package ships ESM + CJS with its own declaration files. Code shared by
 * several entry points goes to one chunk in both formats (`splitting`), so `@skewless/x` and
 * `@skewless/x/adapter` share one copy of each class (`instanceof` holds across them in CJS too).
 */
export const baseTsup: Options = {
  entry: entries(),
  format: ['esm', 'cjs'],
  dts: { compilerOptions: { paths: {} } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  treeshake: true,
  splitting: true,
}
