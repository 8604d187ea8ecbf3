/**
 * The contract of @skewless/cli: `run(argv, io)` runs one `skewless` command and resolves to its exit
 * code (0 ok, 1 failure, 2 usage error). The `io` makes the CLI testable without a terminal.
 */
import type { ValueType } from '@skewless/core'

/** Where a command writes, and whether stderr is a terminal (progress bars draw only there). */
export interface CliIo {
  /** Results (tables, JSON). */
  stdout: (text: string) => void
  /** Errors, warnings and progress. */
  stderr: (text: string) => void
  /** Draw progress bars on stderr. @default process.stderr.isTTY */
  progress?: boolean
  /** Width of a progress bar line in columns. @default process.stderr.columns or 80 */
  columns?: number
}

/** A feature as the log describes it: from its manifest when it has one, else from its files' metadata. */
export interface LogFeature {
  /** Feature name (its `feature=` directory). */
  name: string
  /** Declared value type. */
  valueType: ValueType
  /** The window it was defined with, when the manifest records it (e.g. `{ kind: 'hopping', size: '5m', hop: '1m' }`). */
  window?: unknown
  /** The aggregate's name, when the manifest records it. */
  aggregate?: string
  /** `'value'` or `'tiles'`, when the manifest records it. */
  emit?: string
  /** Serving's TTL in ms, when the manifest records it (joins and audits over the log apply it). */
  ttlMs?: number
  /** What the feature means, when the manifest records it. */
  description?: string
  /** Who owns the feature, when the manifest records it. */
  owner?: string
  /** Tags, when the manifest records them. */
  tags?: string[]
}

/** Where the feature definitions of a log came from. */
export type DefinitionSource = 'manifest' | 'file-metadata'

/** What discovering a log directory found (before opening it). */
export interface DiscoveredLog {
  /** Absolute path of the log root. */
  dir: string
  /** Features found, by name order. */
  features: LogFeature[]
  /** Where the definitions came from. */
  source: DefinitionSource
  /** Number of manifest files read (0 without a manifest). */
  manifestFiles: number
  /**
   * Set when `dir` is a partitioned log: a root of `partition=<n>` directories, one log per stream
   * partition (as `@skewless/worker` writes them), read as one log. The partitions found, sorted.
   */
  partitions?: number[]
}
