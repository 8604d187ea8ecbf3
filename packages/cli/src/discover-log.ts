/**
 * Finds what a log directory holds before opening it: which features, of which types, and whether
 * this CLI can read its format. A log written with a manifest (`_skewless/manifest/*.json`) records
 * its feature definitions there; an older log only in each Parquet file's key-value metadata
 * (`skewless.value_type`, `skewless.format`), so one file per feature is read for it.
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { ValueType } from '@skewless/core'
import { isValueType } from '@skewless/core/adapter'
import { NotALogError, UnsupportedFormatError } from './errors.js'
import { readFooter } from './parquet-meta.js'
import type { DiscoveredLog, LogFeature } from './types.js'

/** Highest `skewless.format` of a data file this CLI reads. */
export const FILE_FORMAT = 1
/** Highest manifest format this CLI reads (`skewless.manifest/<n>`). */
export const MANIFEST_FORMAT = 1
const MANIFEST_DIR = join('_skewless', 'manifest')

/** Discover the log at `path`; `NotALogError` when there is none, `UnsupportedFormatError` when it is newer. */
export async function discoverLog(path: string): Promise<DiscoveredLog> {
  const dir = resolve(path)
  const s = await stat(dir).catch((cause) => {
    throw new NotALogError(path, 'no such file or directory: pass the directory of a Skewless offline log', {
      cause,
    })
  })
  if (!s.isDirectory())
    throw new NotALogError(path, 'not a directory: pass the directory of a Skewless offline log')
  const entries = await readdir(dir)
  const featureDirs = entries.filter((e) => e.startsWith('feature=')).sort()
  const manifest = await readManifest(dir)
  if (featureDirs.length === 0 && !(manifest && manifest.features.size > 0)) {
    const partitioned = await discoverPartitioned(path, dir, entries)
    if (partitioned !== undefined) return partitioned
    throw new NotALogError(
      path,
      'no feature=<name> partitions here: not a Skewless offline log (or an empty one)',
    )
  }
  // One file per feature, also with a manifest: a newer writer may have changed the files' format alone.
  const fromFiles: LogFeature[] = []
  for (const fd of featureDirs) {
    const file = await firstParquet(join(dir, fd))
    if (file === undefined) continue
    const { keyValue } = await readFooter(file)
    const format = keyValue.get('skewless.format')
    if (format === undefined)
      throw new NotALogError(path, `${file} has no skewless.format metadata: not written by Skewless`)
    if (!(Number(format) <= FILE_FORMAT)) throw new UnsupportedFormatError(file, format, String(FILE_FORMAT))
    const type = keyValue.get('skewless.value_type')
    if (type === undefined || !isValueType(type)) {
      throw new NotALogError(
        path,
        `${file} records value type ${String(type)}, not one of double, int64, string, bool`,
      )
    }
    fromFiles.push({ name: fd.slice('feature='.length), valueType: type as ValueType })
  }
  if (manifest !== undefined && manifest.features.size > 0) {
    const features = [...manifest.features.values()].sort((a, b) => (a.name < b.name ? -1 : 1))
    return { dir, features, source: 'manifest', manifestFiles: manifest.files }
  }
  if (fromFiles.length === 0)
    throw new NotALogError(path, 'no committed Parquet file under any feature= partition')
  return { dir, features: fromFiles, source: 'file-metadata', manifestFiles: manifest?.files ?? 0 }
}

/**
 * A root of `partition=<n>` logs (one per stream partition): every partition is discovered, the
 * features are the union of theirs (one name, one type), `undefined` when there is no such directory.
 */
async function discoverPartitioned(
  path: string,
  dir: string,
  entries: string[],
): Promise<DiscoveredLog | undefined> {
  const partitions: number[] = []
  for (const e of entries) {
    const m = /^partition=(\d+)$/.exec(e)
    if (m && (await stat(join(dir, e))).isDirectory()) partitions.push(Number(m[1]))
  }
  if (partitions.length === 0) return undefined
  partitions.sort((a, b) => a - b)
  const features = new Map<string, LogFeature>()
  let manifestFiles = 0
  let source: DiscoveredLog['source'] = 'manifest'
  let found = 0
  for (const p of partitions) {
    let part: DiscoveredLog
    try {
      part = await discoverLog(join(dir, `partition=${p}`))
    } catch (err) {
      // A partition that has committed nothing yet (a worker just started) holds nothing to read.
      if (err instanceof NotALogError) continue
      throw err
    }
    found++
    manifestFiles += part.manifestFiles
    if (part.source === 'file-metadata') source = 'file-metadata'
    for (const f of part.features) {
      const seen = features.get(f.name)
      if (seen !== undefined && seen.valueType !== f.valueType) {
        throw new NotALogError(
          path,
          `feature ${f.name} is ${seen.valueType} in one partition and ${f.valueType} in partition ${p}: not one log`,
        )
      }
      if (seen === undefined) features.set(f.name, f)
    }
  }
  if (found === 0) {
    throw new NotALogError(path, `partitions ${partitions.join(', ')} found, but none holds a log yet`)
  }
  const sorted = [...features.values()].sort((a, b) => (a.name < b.name ? -1 : 1))
  return { dir, features: sorted, source, manifestFiles, partitions }
}

/** The first committed `.parquet` file under a feature directory (temp files are `_tmp-….tmp`). */
async function firstParquet(featureDir: string): Promise<string | undefined> {
  for (const date of (await readdir(featureDir)).sort()) {
    const d = join(featureDir, date)
    if (!(await stat(d)).isDirectory()) continue
    const file = (await readdir(d)).sort().find((f) => f.endsWith('.parquet'))
    if (file !== undefined) return join(d, file)
  }
  return undefined
}

/**
 * Feature definitions recorded by the manifest, in version order (a later definition of a name
 * refines an earlier one). Every manifest file's format is checked, so a log a newer writer touched
 * is refused before anything reads it.
 */
async function readManifest(
  dir: string,
): Promise<{ features: Map<string, LogFeature>; files: number } | undefined> {
  const mdir = join(dir, MANIFEST_DIR)
  const names = await readdir(mdir).catch(() => undefined)
  if (names === undefined) return undefined
  const jsons = names.filter((n) => /^\d{20}\.(checkpoint\.)?json$/.test(n)).sort()
  const features = new Map<string, LogFeature>()
  for (const n of jsons) {
    const file = join(mdir, n)
    let doc: { format?: unknown; features?: unknown }
    try {
      doc = JSON.parse(await readFile(file, 'utf8'))
    } catch (cause) {
      throw new NotALogError(dir, `manifest file ${file} is not valid JSON`, { cause })
    }
    const m = /^skewless\.manifest\/(\d+)$/.exec(String(doc?.format))
    if (!m)
      throw new NotALogError(
        dir,
        `manifest file ${file} has format ${String(doc?.format)}, not skewless.manifest/<n>`,
      )
    if (Number(m[1]) > MANIFEST_FORMAT) {
      throw new UnsupportedFormatError(file, String(doc.format), `skewless.manifest/${MANIFEST_FORMAT}`)
    }
    if (!Array.isArray(doc.features)) continue
    for (const f of doc.features as Partial<LogFeature>[]) {
      if (typeof f?.name !== 'string' || !isValueType(f.valueType)) continue
      features.set(f.name, { ...features.get(f.name), ...f } as LogFeature)
    }
  }
  return { features, files: jsons.length }
}
