import type { FeatureInfo } from '@skewless/core'
import type { FeatureTypes } from '@skewless/offline-log'
import { DefinitionChangedError } from './errors.js'
import type { FeatureDefinition } from './manifest-format.js'

/** The definitions the log was opened with: `FeatureInfo` fields, or only the type from a type map. */
export function definitionsOf(features: FeatureTypes | readonly FeatureInfo[]): FeatureDefinition[] {
  if (!Array.isArray(features)) {
    return Object.entries(features as FeatureTypes).map(([name, valueType]) => ({ name, valueType }))
  }
  return (features as readonly FeatureInfo[]).map((f) => {
    const d: FeatureDefinition = { name: f.name, valueType: f.valueType }
    if (f.window !== undefined) d.window = JSON.parse(JSON.stringify(f.window))
    if (f.aggregate !== undefined) d.aggregate = f.aggregate
    if (f.emit !== undefined) d.emit = f.emit
    if (f.ttlMs !== undefined) d.ttlMs = f.ttlMs
    if (f.description !== undefined) d.description = f.description
    if (f.owner !== undefined) d.owner = f.owner
    if (f.tags !== undefined) d.tags = [...f.tags]
    return d
  })
}

/** JSON with sorted keys: two definitions are equal when these are. */
function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v)
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  const o = v as Record<string, unknown>
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`
}

/** Fields that decide the rows: changing one under the same name would mix two features in one column. */
const FIELDS = ['valueType', 'window', 'aggregate', 'emit'] as const

/**
 * Fields that decide only how rows are read (`ttlMs`: the join's default maxAge) or described: a
 * change is recorded, not refused (the rows stay valid; the latest TTL is what serving uses too).
 */
const METADATA = ['ttlMs', 'description', 'owner', 'tags'] as const

/**
 * Compare the definitions given at open with those the log records. A row-deciding field given on
 * both sides must be equal (`DefinitionChangedError` otherwise); one only one side has is no conflict
 * (a reader may open with a plain type map). Metadata (`ttlMs`, `description`, `owner`, `tags`) of a
 * full definition (one with an `aggregate`, i.e. from `defineFeatures`) replaces what is recorded,
 * absent fields included (a TTL removed is recorded as removed); a type map leaves it as it is.
 * Returns what to record: new features, recorded ones the open describes in more detail, and
 * recorded ones whose metadata changed.
 */
export function reconcileDefinitions(
  recorded: ReadonlyMap<string, FeatureDefinition>,
  given: readonly FeatureDefinition[],
): FeatureDefinition[] {
  const changes: FeatureDefinition[] = []
  for (const g of given) {
    const r = recorded.get(g.name)
    if (r === undefined) {
      changes.push(g)
      continue
    }
    let richer = false
    const full = g.aggregate !== undefined
    for (const k of METADATA) {
      if (full && canonical(g[k]) !== canonical(r[k])) richer = true
    }
    for (const k of FIELDS) {
      if (g[k] === undefined) continue
      if (r[k] === undefined) {
        richer = true
        continue
      }
      if (canonical(g[k]) !== canonical(r[k])) {
        throw new DefinitionChangedError(g.name, describe(r), describe(g))
      }
    }
    if (!richer) continue
    const next: FeatureDefinition = { ...r, ...g }
    if (full) for (const k of METADATA) if (g[k] === undefined) delete next[k]
    changes.push(next)
  }
  return changes
}

/** Short text of a definition for error messages. */
function describe(d: FeatureDefinition): string {
  const parts = FIELDS.filter((k) => d[k] !== undefined).map((k) => `${k} ${canonical(d[k])}`)
  return `{ ${parts.join(', ')} }`
}
