#!/usr/bin/env node
/** The `skewless` executable. */
import { run } from './run.js'

// `pnpm skewless …` runs in the repository root; relative paths mean the directory it was typed in.
if (process.env.npm_lifecycle_event === 'skewless' && process.env.INIT_CWD)
  process.chdir(process.env.INIT_CWD)

const code = await run(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  progress: process.stderr.isTTY === true,
  columns: process.stderr.columns ?? 80,
})
process.exitCode = code
