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

const FIELDS = ['valueType', 'window', 'aggregate', 'emit'] as const

/**
 * Compare the definitions given at open with those the log records. A field given on both sides
 * must be equal (`DefinitionChangedError` otherwise); a field only one side has is no conflict (a
 * reader may open with a plain type map). Returns what to record: new features, and recorded ones
 * the open describes in more detail.
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
    if (richer) changes.push({ ...r, ...g })
  }
  return changes
}

/** Short text of a definition for error messages. */
function describe(d: FeatureDefinition): string {
  const parts = FIELDS.filter((k) => d[k] !== undefined).map((k) => `${k} ${canonical(d[k])}`)
  return `{ ${parts.join(', ')} }`
}
