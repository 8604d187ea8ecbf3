import {
  type HoppingWindow,
  hopping,
  InvalidArgumentError,
  InvalidDefinitionError,
  type TumblingWindow,
  toMs,
  tumbling,
  type ValueType,
  type WindowSpec,
} from '@skewless/core'
import type { AsOfJoinOptions } from './types.js'

/** Value kinds, indexes of the value columns below. */
export const VALUE_COLUMNS = ['value_double', 'value_int64', 'value_string', 'value_bool'] as const
const KIND: Record<ValueType, number> = { double: 0, int64: 1, string: 2, bool: 3 }

/** A requested feature with its options resolved. */
export interface ResolvedFeature {
  name: string
  /** Declared type, or undefined until inferred from a table log. */
  type: ValueType | undefined
  /** The request gave `type`: in a table log the feature may then have no record at all. */
  typed: boolean
  /** Index into VALUE_COLUMNS. */
  kind: number
  maxAgeMs: number
  includeEventTime: boolean
  includeAge: boolean
  /** The tile window of an additive (tile) feature; undefined for a whole-value feature. */
  window: TumblingWindow | HoppingWindow | undefined
}

/** Re-validate a requested tile window through core's constructors (hand-written specs included). */
function tileWindow(name: string, w: WindowSpec | undefined): TumblingWindow | HoppingWindow | undefined {
  if (w === undefined) return undefined
  const kind = (w as { kind?: unknown } | null)?.kind
  if (kind !== 'tumbling' && kind !== 'hopping') {
    throw new InvalidArgumentError(
      `asof-join: feature '${name}' has window kind '${String(kind)}': tile features have a tumbling or hopping window (the one in its OnlineFeatureConfig)`,
    )
  }
  try {
    const x = w as TumblingWindow | HoppingWindow
    return kind === 'tumbling' ? tumbling(x.sizeMs) : hopping(x.sizeMs, x.hopMs)
  } catch (cause) {
    if (!(cause instanceof InvalidDefinitionError)) throw cause
    throw new InvalidArgumentError(`asof-join: window of feature '${name}': ${cause.message}`, { cause })
  }
}

export function valueKind(type: ValueType): number {
  const k = KIND[type]
  if (k === undefined) {
    throw new InvalidArgumentError(
      `asof-join: value type '${String(type)}' is not one of double, int64, string, bool`,
    )
  }
  return k
}

export function resolveFeatures(options: AsOfJoinOptions): ResolvedFeature[] {
  if (!options || !Array.isArray(options.features) || options.features.length === 0) {
    throw new InvalidArgumentError('asof-join: options.features must name at least one feature')
  }
  const seen = new Set<string>()
  return options.features.map((f) => {
    const req = typeof f === 'string' ? { name: f } : f
    if (!req || typeof req.name !== 'string' || req.name.length === 0) {
      throw new InvalidArgumentError('asof-join: every entry of options.features needs a non-empty name')
    }
    if (seen.has(req.name))
      throw new InvalidArgumentError(`asof-join: feature '${req.name}' is requested twice`)
    seen.add(req.name)
    const maxAgeMs =
      req.maxAge === undefined
        ? Number.POSITIVE_INFINITY
        : toMs(req.maxAge, `maxAge of feature '${req.name}'`)
    return {
      name: req.name,
      type: req.type,
      typed: req.type !== undefined,
      kind: req.type === undefined ? -1 : valueKind(req.type),
      maxAgeMs,
      includeEventTime: req.includeEventTime ?? options.includeEventTime ?? false,
      includeAge: req.includeAge ?? options.includeAge ?? false,
      window: tileWindow(req.name, req.window),
    }
  })
}
