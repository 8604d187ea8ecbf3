/**
 * `pnpm bench <name>` entry point: runs bench/<name>.ts in this process.
 * Each benchmark prints a readable table and, as its last stdout line, one JSON object.
 */
import { existsSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const name = process.argv[2]
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
if (!name || !existsSync(join(here, `${name}.ts`))) {
  console.error(`usage: pnpm bench <name>   (available: ${available.join(', ') || 'none'})`)
  process.exit(2)
}
await import(pathToFileURL(join(here, `${name}.ts`)).href)
