import type { Options } from 'tsup'

/** Shared tsup options: every package ships ESM + CJS with its own declaration files. */
export const baseTsup: Options = {
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: { compilerOptions: { paths: {} } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  treeshake: true,
}
