import { type FeatureInfo, InvalidDefinitionError, type ValueType } from '@skewless/core'
import type { FeatureTypes } from './types.js'

const VALUE_TYPES: ReadonlySet<string> = new Set<ValueType>(['double', 'int64', 'string', 'bool'])

/** Turn `OfflineLogOptions.features` (a map or `FeatureInfo[]`) into a frozen name → type map. */
export function normalizeFeatureTypes(
  features: FeatureTypes | readonly FeatureInfo[],
): Readonly<FeatureTypes> {
  if (features === null || typeof features !== 'object') {
    throw new InvalidDefinitionError(
      'offline-log: `features` must be a map { name: valueType } or an array of FeatureInfo',
    )
  }
  const out: FeatureTypes = Object.create(null)
  const entries: [string, unknown][] = Array.isArray(features)
    ? (features as readonly FeatureInfo[]).map((f) => [f?.name, f?.valueType])
    : Object.entries(features)
  for (const [name, type] of entries) {
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidDefinitionError(
        `offline-log: feature name ${JSON.stringify(name)} must be a non-empty string`,
      )
    }
    if (typeof type !== 'string' || !VALUE_TYPES.has(type)) {
      throw new InvalidDefinitionError(
        `offline-log: feature "${name}" has value type ${JSON.stringify(type)}; use one of double, int64, string, bool`,
      )
    }
    if (name in out) throw new InvalidDefinitionError(`offline-log: feature "${name}" is declared twice`)
    out[name] = type as ValueType
  }
  return Object.freeze(out)
}
