import { defineConfig } from 'tsup'
import { baseTsup } from '../../tsup.base'

export default defineConfig([
  { ...baseTsup },
  // The executable: ESM only (the package is "type": "module"), hashbang kept by esbuild.
  { ...baseTsup, entry: ['src/bin.ts'], format: ['esm'], dts: false, clean: false },
])
