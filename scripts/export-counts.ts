/**
 * Counts the names each package entry point exports (every `exports` subpath of every package,
 * read with the TypeScript compiler from the sources the entries are built from), so a change to
 * the public surface shows as a number. `tsx scripts/export-counts.ts` prints a table;
 * `--names` also lists the names; `--json` prints `{ "<specifier>": ["name", ...] }`.
 */
import ts from 'typescript'
import { workspaceEntries } from '../workspace-entries.js'

const entries = workspaceEntries()
const config = ts.getParsedCommandLineOfConfigFile(
  'tsconfig.json',
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    },
  },
)
if (config === undefined) throw new Error('tsconfig.json: cannot read')
const program = ts.createProgram(
  entries.map((e) => e.file),
  { ...config.options, noEmit: true },
)
const checker = program.getTypeChecker()

const result: Record<string, string[]> = {}
for (const entry of entries) {
  const source = program.getSourceFile(entry.file)
  if (source === undefined) throw new Error(`${entry.file}: not in the program`)
  const module = checker.getSymbolAtLocation(source)
  const names = module === undefined ? [] : checker.getExportsOfModule(module).map((s) => s.getName())
  result[entry.specifier] = names.sort()
}

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(result, null, 2))
} else {
  const width = Math.max(...Object.keys(result).map((k) => k.length))
  for (const [specifier, names] of Object.entries(result)) {
    console.log(`${specifier.padEnd(width)}  ${String(names.length).padStart(4)}`)
    if (process.argv.includes('--names')) console.log(`  ${names.join(', ')}`)
  }
}
