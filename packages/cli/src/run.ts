import { SkewlessError } from '@skewless/core'
import { CommanderError } from 'commander'
import { CliError, EXIT } from './errors.js'
import { buildProgram } from './program.js'
import type { CliIo } from './types.js'

/** Library errors that mean the caller asked for something wrong (an unknown feature, a bad option). */
const USAGE_CODES = new Set(['invalid-argument', 'invalid-definition'])

/**
 * Run one `skewless` command (`argv` without node and the script) and resolve to its exit code:
 * 0 ok, 1 failure, 2 usage error. Never throws; errors are written to `io.stderr`.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io)
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return EXIT.ok
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version end through exitOverride too, with exit code 0; commander already printed.
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage
    }
    const command = argv.find((a) => !a.startsWith('-')) ?? ''
    if (e instanceof CliError) {
      // `skewless <command>:` already says where: a message's own `cli: ` prefix would repeat it.
      io.stderr(`skewless ${command}: ${e.message.replace(/^cli: /, '')}\n`)
      return e.exitCode
    }
    if (e instanceof SkewlessError) {
      io.stderr(`skewless ${command}: ${e.message.replace(/^cli: /, '')} [${e.code}]\n`)
      return USAGE_CODES.has(e.code) ? EXIT.usage : EXIT.failure
    }
    io.stderr(`skewless ${command}: ${e instanceof Error ? e.message : String(e)}\n`)
    if (process.env.SKEWLESS_DEBUG && e instanceof Error) io.stderr(`${e.stack}\n`)
    return EXIT.failure
  }
}
