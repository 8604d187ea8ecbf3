import type { CommitMarks, EmitMode, ValueType, WindowSpec } from '@skewless/core'
import { CorruptManifestError } from './errors.js'

/**
 * Where the manifest lives, relative to the log root. Starts with `_`: Hive-style readers (DuckDB,
 * Spark, pyarrow) skip it, and it holds no `.parquet` file for a `**\/*.parquet` glob to find.
 */
export const MANIFEST_DIR = '_skewless/manifest'
/** Format tag of every manifest file this version writes. */
export const MANIFEST_FORMAT = 'skewless.manifest/1'

/** A committed data file, as the manifest records it. Paths are relative to the root, with `/`. */
export interface FileEntry {
  path: string
  /** Rows in the file; `null` for files adopted by a migration (not read to count them). */
  rows: number | null
  bytes: number
  minEventTime: number
  maxEventTime: number
  minAvailableTime: number
  maxAvailableTime: number
}

/** A file added by a version; `tmp` is its name before the rename (rolled forward after a crash). */
export interface AddedFile extends FileEntry {
  tmp?: string
}

/**
 * A feature as the log records it: `FeatureInfo` fields, all but the type optional (a plain type map
 * gives only types). `valueType`, `window`, `aggregate` and `emit` decide the rows; `ttlMs`,
 * `description`, `owner` and `tags` only how they are read or described, so they may change (the
 * latest open with full definitions is recorded; docs/decisions/manifest.md).
 */
export interface FeatureDefinition {
  name: string
  valueType: ValueType
  window?: WindowSpec
  aggregate?: string
  emit?: EmitMode
  /** Time to live (ms): the as-of join's and the audit's default `maxAge`. */
  ttlMs?: number
  description?: string
  owner?: string
  tags?: string[]
}

/** One manifest version `<20-digit number>.json`: one commit of the log. */
export interface ManifestVersion {
  format: typeof MANIFEST_FORMAT
  version: number
  /** Writer id of the committing log. */
  writer: string
  /** Wall-clock time of the commit (ms), informational. */
  committedAt: number
  add: AddedFile[]
  /** Paths no longer part of the log (compaction inputs, or losses accepted with `acceptLostFiles`). */
  remove: string[]
  /** Marks this commit sets (absent keys keep their value). */
  marks?: CommitMarks
  /** Feature definitions added or refined by this commit. */
  features?: FeatureDefinition[]
  /** Why files were removed without a replacement, e.g. `'lost'`. */
  note?: string
}

/** A snapshot `<20-digit number>.checkpoint.json`: the whole state after that version. */
export interface ManifestSnapshot {
  format: typeof MANIFEST_FORMAT
  version: number
  files: FileEntry[]
  marks: CommitMarks
  features: FeatureDefinition[]
}

const pad = (v: number) => String(v).padStart(20, '0')
/** File name of a version. */
export const versionName = (v: number): string => `${pad(v)}.json`
/** File name of a snapshot. */
export const snapshotName = (v: number): string => `${pad(v)}.checkpoint.json`

/** What a manifest directory entry is: a version, a snapshot, or something else (`undefined`). */
export function parseManifestName(
  name: string,
): { kind: 'version' | 'snapshot'; version: number } | undefined {
  const m = /^(\d{20})\.(checkpoint\.)?json$/.exec(name)
  if (!m) return undefined
  return { kind: m[2] ? 'snapshot' : 'version', version: Number(m[1]) }
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

function checkEntry(path: string, e: unknown): void {
  const f = e as Partial<AddedFile> | null
  const ok =
    f !== null &&
    typeof f === 'object' &&
    typeof f.path === 'string' &&
    (f.rows === null || isNum(f.rows)) &&
    isNum(f.bytes) &&
    isNum(f.minEventTime) &&
    isNum(f.maxEventTime) &&
    isNum(f.minAvailableTime) &&
    isNum(f.maxAvailableTime) &&
    (f.tmp === undefined || typeof f.tmp === 'string')
  if (!ok) throw new CorruptManifestError(path, `bad file entry ${JSON.stringify(e)?.slice(0, 200)}`)
}

function parseJson(path: string, text: string): Record<string, unknown> {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (e) {
    throw new CorruptManifestError(path, `not valid JSON (${(e as Error).message})`, { cause: e })
  }
  if (v === null || typeof v !== 'object' || (v as { format?: unknown }).format !== MANIFEST_FORMAT) {
    throw new CorruptManifestError(path, `not a ${MANIFEST_FORMAT} file`)
  }
  return v as Record<string, unknown>
}

/** Parse and check a version file; `CorruptManifestError` naming it when it is not one. */
export function parseVersion(path: string, text: string, expected: number): ManifestVersion {
  const v = parseJson(path, text) as Partial<ManifestVersion>
  if (v.version !== expected)
    throw new CorruptManifestError(path, `holds version ${v.version}, expected ${expected}`)
  if (!Array.isArray(v.add) || !Array.isArray(v.remove) || typeof v.writer !== 'string') {
    throw new CorruptManifestError(path, 'missing add/remove/writer')
  }
  for (const e of v.add) checkEntry(path, e)
  for (const r of v.remove)
    if (typeof r !== 'string') throw new CorruptManifestError(path, 'bad remove entry')
  if (v.features !== undefined && !Array.isArray(v.features))
    throw new CorruptManifestError(path, 'bad features')
  return v as ManifestVersion
}

/** Parse and check a snapshot file. */
export function parseSnapshot(path: string, text: string, expected: number): ManifestSnapshot {
  const s = parseJson(path, text) as Partial<ManifestSnapshot>
  if (s.version !== expected)
    throw new CorruptManifestError(path, `holds version ${s.version}, expected ${expected}`)
  if (
    !Array.isArray(s.files) ||
    !Array.isArray(s.features) ||
    typeof s.marks !== 'object' ||
    s.marks === null
  ) {
    throw new CorruptManifestError(path, 'missing files/features/marks')
  }
  for (const e of s.files) checkEntry(path, e)
  return s as ManifestSnapshot
}
