/**
 * The global setup of every test project: bundle the children the tests start often, once per run
 * (see scripts/test-children.ts). A run started with SKEWLESS_TEST_CHILDREN set uses what it names
 * (set it to an empty directory to run every child under tsx).
 */
import { rmSync } from 'node:fs'
import { BUNDLED_CHILDREN, bundleChildren, CHILDREN_ENV } from './scripts/test-children.ts'

export default async function setup(): Promise<(() => void) | undefined> {
  // Every project runs its global setup in this process: the first one builds for all of them.
  if (process.env[CHILDREN_ENV] !== undefined) return undefined
  const t0 = performance.now()
  const dir = await bundleChildren()
  process.env[CHILDREN_ENV] = dir
  console.log(
    `test children: ${BUNDLED_CHILDREN.length} entry points bundled in ${Math.round(performance.now() - t0)} ms`,
  )
  return () => rmSync(dir, { recursive: true, force: true })
}
