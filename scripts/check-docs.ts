/**
 * Checks the documentation the way a reader meets it:
 *
 * 1. every relative Markdown link (`[text](path)` and `[text](path#anchor)`) in the READMEs and
 *    `docs/` points at a file that exists, and an anchor into a Markdown file names one of its
 *    headings (GitHub's slug rule);
 * 2. every ` ```ts ` / ` ```typescript ` code block compiles against the packages' sources, with
 *    the same strict compiler options as the code. Each block is its own module, so a block must
 *    import what it uses: a reader copies one block, not the page.
 *
 * A block that continues a page's story (it uses `events` or `log` from the text around it) says
 * what it assumes in an HTML comment right above it, which GitHub does not render and this check
 * prepends to the block, in the manner of rustdoc's hidden lines:
 *
 *     <!-- prelude
 *     declare const events: Click[]
 *     -->
 *
 * A block that is deliberately not a program (a type signature, a diff) uses another info string
 * (` ```text `, ` ```diff `) so it is not presented as runnable TypeScript.
 *
 * Exit code 0 when everything holds, 1 with one line per problem otherwise. Run: `pnpm docs:check`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** The Markdown a user reads: the root README, docs/ and each package's and example's README. */
function markdownFiles(): string[] {
  const files: string[] = [join(root, 'README.md')]
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name.startsWith('.')) continue
      const path = join(dir, name)
      if (statSync(path).isDirectory()) walk(path)
      else if (name.endsWith('.md')) files.push(path)
    }
  }
  walk(join(root, 'docs'))
  for (const group of ['packages', 'examples', 'bench']) {
    const dir = join(root, group)
    if (!existsSync(dir)) continue
    for (const name of readdirSync(dir)) {
      const readme = join(dir, name, 'README.md')
      if (existsSync(readme)) files.push(readme)
    }
    const groupReadme = join(dir, 'README.md')
    if (existsSync(groupReadme)) files.push(groupReadme)
  }
  return files
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-')
}

function headings(markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  for (const line of outsideFences(markdown)) {
    const match = /^#{1,6}\s+(.*)$/.exec(line.text)
    if (!match?.[1]) continue
    const base = slug(match[1])
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    out.add(n === 0 ? base : `${base}-${n}`)
  }
  return out
}

interface Line {
  text: string
  line: number
}

/** The lines of a Markdown file that are prose, not inside a fenced block. */
function outsideFences(markdown: string): Line[] {
  const out: Line[] = []
  let fenced = false
  markdown.split('\n').forEach((text, i) => {
    if (/^\s*```/.test(text)) fenced = !fenced
    else if (!fenced) out.push({ text, line: i + 1 })
  })
  return out
}

interface Block {
  file: string
  line: number
  code: string
  /** Lines of the block's hidden prelude, prepended before `code`. */
  preludeLines: number
}

/** The `<!-- prelude ... -->` comment ending on the line just above `open`, if any. */
function preludeAbove(lines: string[], open: number): string[] {
  let end = open - 1
  while (end >= 0 && (lines[end] ?? '').trim() === '') end--
  if ((lines[end] ?? '').trim() !== '-->') return []
  let start = end - 1
  while (start >= 0 && (lines[start] ?? '').trim() !== '<!-- prelude') start--
  return start < 0 ? [] : lines.slice(start + 1, end)
}

function tsBlocks(file: string, markdown: string): Block[] {
  const blocks: Block[] = []
  const lines = markdown.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(ts|typescript)\s*$/.exec(lines[i] ?? '')
    if (!open) continue
    const indent = open[1]?.length ?? 0
    const body: string[] = []
    let j = i + 1
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j] ?? ''); j++)
      body.push((lines[j] ?? '').slice(indent))
    const prelude = preludeAbove(lines, i)
    blocks.push({ file, line: i + 1, code: [...prelude, ...body].join('\n'), preludeLines: prelude.length })
    i = j
  }
  return blocks
}

function checkLinks(file: string, markdown: string, problems: string[]): number {
  let count = 0
  for (const { text, line } of outsideFences(markdown)) {
    // Inline code spans are not links.
    const prose = text.replace(/`[^`]*`/g, '')
    if (/^\s*<!--/.test(prose)) continue
    for (const match of prose.matchAll(/\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = match[1] ?? ''
      if (/^[a-z]+:/i.test(target)) continue
      count++
      const [path = '', anchor] = target.split('#')
      const resolved = path === '' ? file : resolve(dirname(file), decodeURIComponent(path))
      const where = `${relative(root, file)}:${line}`
      if (!existsSync(resolved)) {
        problems.push(`${where}: broken link ${target} (no such file ${relative(root, resolved)})`)
        continue
      }
      if (anchor && resolved.endsWith('.md') && !headings(readFileSync(resolved, 'utf8')).has(anchor)) {
        problems.push(
          `${where}: broken link ${target} (no heading #${anchor} in ${relative(root, resolved)})`,
        )
      }
    }
  }
  return count
}

function checkBlocks(blocks: Block[], problems: string[]): void {
  const origin = new Map<string, Block>()
  const dirs = new Set<string>()
  blocks.forEach((block, i) => {
    // Beside the Markdown's own package, so a block resolves that package's dependencies
    // (a source-nats example may import `@nats-io/jetstream`) as a user's program would.
    const mdDir = dirname(block.file)
    const home = existsSync(join(mdDir, 'package.json')) ? mdDir : root
    const outDir = join(home, 'node_modules', '.doc-blocks')
    if (!dirs.has(outDir)) {
      rmSync(outDir, { recursive: true, force: true })
      mkdirSync(outDir, { recursive: true })
      dirs.add(outDir)
    }
    const name = `${relative(root, block.file).replace(/[^a-z0-9]+/gi, '_')}_${i}.ts`
    const path = join(outDir, name)
    // `export {}` makes every block a module, so blocks do not see each other's names.
    writeFileSync(path, `${block.code}\nexport {}\n`)
    origin.set(path, block)
  })
  const configPath = join(root, 'tsconfig.docs.json')
  const config = ts.readConfigFile(configPath, ts.sys.readFile)
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root)
  const options: ts.CompilerOptions = { ...parsed.options, noEmit: true, noUnusedLocals: false }
  const program = ts.createProgram({ rootNames: [...origin.keys()], options })
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n')
    const block = d.file ? origin.get(resolve(d.file.fileName)) : undefined
    // The packages' own sources are `tsc`'s to check; here only the blocks are judged.
    if (d.file && !block) continue
    if (!block || !d.file || d.start === undefined) {
      problems.push(`(compiler): ${message}`)
      continue
    }
    const { line } = d.file.getLineAndCharacterOfPosition(d.start)
    const at =
      line < block.preludeLines
        ? `prelude line ${line + 1} above`
        : `${block.line + 1 + line - block.preludeLines}`
    problems.push(`${relative(root, block.file)}:${at}: TS${d.code} ${message}`)
  }
}

function main(): void {
  const problems: string[] = []
  const files = markdownFiles()
  let links = 0
  const blocks: Block[] = []
  for (const file of files) {
    const markdown = readFileSync(file, 'utf8')
    links += checkLinks(file, markdown, problems)
    blocks.push(...tsBlocks(file, markdown))
  }
  checkBlocks(blocks, problems)
  for (const problem of problems) console.error(problem)
  console.log(
    `docs: ${files.length} Markdown files, ${links} relative links, ${blocks.length} TypeScript blocks compiled; ${problems.length} problem(s)`,
  )
  process.exitCode = problems.length === 0 ? 0 : 1
}

main()
