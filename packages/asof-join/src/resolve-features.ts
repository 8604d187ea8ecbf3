import {
  type FeatureInfo,
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
import type { AsOfJoinOptions, FeatureRequest } from './types.js'

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
  const defs = definitionsByName(options.definitions)
  return options.features.map((f) => {
    const given = typeof f === 'string' ? { name: f } : f
    if (!given || typeof given.name !== 'string' || given.name.length === 0) {
      throw new InvalidArgumentError('asof-join: every entry of options.features needs a non-empty name')
    }
    const req = withDefinition(given, defs.get(given.name))
    if (seen.has(req.name))
      throw new InvalidArgumentError(`asof-join: feature '${req.name}' is requested twice`)
    seen.add(req.name)
    const maxAgeMs =
      req.maxAge === undefined || req.maxAge === Number.POSITIVE_INFINITY
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

/** The definitions by name; a definition without a string name is refused, not skipped. */
function definitionsByName(defs: readonly FeatureInfo[] | undefined): Map<string, FeatureInfo> {
  const out = new Map<string, FeatureInfo>()
  if (defs === undefined) return out
  if (!Array.isArray(defs)) {
    throw new InvalidArgumentError(
      'asof-join: options.definitions must be an array of FeatureInfo (group.describe())',
    )
  }
  for (const d of defs as readonly FeatureInfo[]) {
    if (typeof d?.name !== 'string') {
      throw new InvalidArgumentError('asof-join: every entry of options.definitions needs a string name')
    }
    out.set(d.name, d)
  }
  return out
}

/**
 * A request with the definition's defaults under it: its TTL as `maxAge`, a tile feature's window,
 * its value type. Whatever the request sets wins.
 */
function withDefinition(req: FeatureRequest, def: FeatureInfo | undefined): FeatureRequest {
  if (def === undefined) return req
  const out: FeatureRequest = { ...req }
  if (out.maxAge === undefined && def.ttlMs !== undefined) out.maxAge = def.ttlMs
  if (out.window === undefined && def.emit === 'tiles') out.window = def.window
  if (out.type === undefined && def.valueType !== undefined) out.type = def.valueType
  return out
}
