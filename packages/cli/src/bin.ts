#!/usr/bin/env node
/** The `skewless` executable. */
import { run } from './run.js'

// `pnpm skewless …` runs in the repository root; relative paths mean the directory it was typed in.
if (process.env.npm_lifecycle_event === 'skewless' && process.env.INIT_CWD)
  process.chdir(process.env.INIT_CWD)

// `skewless inspect log | head`: a closed pipe ends the output, not with a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  throw e
})

const code = await run(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  // SKEWLESS_PROGRESS=1 draws the bar on a non-terminal stderr too (tests, `script` recordings).
  progress: process.stderr.isTTY === true || process.env.SKEWLESS_PROGRESS === '1',
  columns: process.stderr.columns || 80,
})
process.exitCode = code
