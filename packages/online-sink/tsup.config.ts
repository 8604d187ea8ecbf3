import { defineConfig } from 'tsup'
import { baseTsup } from '../../tsup.base'

// p-limit is ESM-only: bundle it (about 2 KB with yocto-queue) so the CJS build also works on Node
// versions before require(esm) was enabled by default (20.19).
export default defineConfig({ ...baseTsup, noExternal: ['p-limit', 'yocto-queue'] })
