import { type FeatureInfo, InvalidDefinitionError } from '@skewless/core'
import { isValueType, VALUE_TYPES } from '@skewless/core/adapter'
import type { FeatureTypes } from './types.js'

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
    if (!isValueType(type)) {
      throw new InvalidDefinitionError(
        `offline-log: feature "${name}" has value type ${JSON.stringify(type)}; use one of ${VALUE_TYPES.join(', ')}`,
      )
    }
    if (name in out) throw new InvalidDefinitionError(`offline-log: feature "${name}" is declared twice`)
    out[name] = type
  }
  return Object.freeze(out)
}
