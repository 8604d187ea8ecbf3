/**
 * Code-first feature definitions: one group per entity key over one event stream, many features
 * per group, all computed in one pass.
 */
import { last, max, min, resolveAggregator, sum } from './aggregators.js'
import { InvalidDefinitionError } from './errors.js'
import { featureMetadata } from './feature-metadata.js'
import type { Aggregator, Duration, EmitMode, FeatureInfo, ValueType, WindowSpec } from './types.js'
import { VALUE_TYPES } from './value-types.js'
import { hopping, session, tumbling, unbounded } from './windows.js'

/** Definition of one feature inside a group. */
export interface FeatureSpec<E> {
  /** The window in event time: `tumbling('1h')`, `hopping('5m', '1m')`, `session('30m')`, `unbounded()`. */
  window: WindowSpec
  /** The aggregator, e.g. `count()`, or a built-in name such as `'sum'`. */
  aggregate: Aggregator | string
  /**
   * Extracts the aggregated value from an event. Required for every aggregator but `count`; for a
   * user-defined aggregator it defaults to the event itself.
   */
  value?: (event: E) => unknown
  /** Type of the feature's values. @default the aggregator's `valueType` */
  valueType?: ValueType
  /** `'value'` emits the window's value; `'tiles'` emits per-tile partials for additive online writes. @default 'value' */
  emit?: EmitMode
  /**
   * Do not emit an update whose value equals the previous one (by default an event that leaves
   * the value unchanged but moves time forward still emits, refreshing the value's eventTime).
   * After a crash, a replay that cuts the micro-batches otherwise may skip an update that would
   * have replaced a dead process's later write, which then stays until the pair's next update
   * (docs/decisions/version.md): leave it off where the stored value must equal an uninterrupted
   * run's after every crash.
   * @default false
   */
  suppressUnchanged?: boolean
  /**
   * Time to live: ms (a number > 0) or a duration such as `'1h'`. A value older than this at the
   * read time is missing online, and the as-of join and skew audit apply the same bound by default
   * (their `maxAge`), so a TTL is configured once. @default no TTL
   */
  ttl?: Duration
  /** What the feature means (carried in `FeatureInfo`, shown by `describe()`). @default none */
  description?: string
  /** Who owns the feature: a team or a person. @default none */
  owner?: string
  /** Free-form labels, e.g. `['fraud', 'pii']`. @default none */
  tags?: readonly string[]
}

/**
 * Definition of a feature group: how to key and time the events, and the features to compute.
 * `K` is the union of the feature names, inferred when `E` is too (annotate the entity extractor's
 * parameter instead of writing `defineFeatures<E>`), so typed APIs can check feature names.
 */
export interface FeatureGroupSpec<E, K extends string = string> {
  /** Entity key of an event (string or number; converted with `String`). A missing key dead-letters the event. */
  entity: (event: E) => unknown
  /** Event time of an event: ms since epoch, a `Date` or an ISO-8601 string. */
  eventTime: (event: E) => unknown
  /** Features by unique name. */
  features: Record<K, FeatureSpec<E>>
}

/** A validated feature. */
export interface ResolvedFeature<E> {
  /** Unique name. */
  readonly name: string
  /** Its window (validated). */
  readonly window: WindowSpec
  /** Its aggregator (resolved). */
  readonly aggregator: Aggregator
  /** Value extractor, `undefined` for `count`. */
  readonly value: ((event: E) => unknown) | undefined
  /** Declared value type. */
  readonly valueType: ValueType
  /** Emission mode. */
  readonly emit: EmitMode
  /** Whether unchanged values are suppressed. */
  readonly suppressUnchanged: boolean
  /** TTL, description, owner and tags, validated: what `describe()` carries besides the computation. */
  readonly metadata: Pick<FeatureInfo, 'ttlMs' | 'description' | 'owner' | 'tags'>
}

/** A validated group of features sharing an entity key and event-time extractor; `K`: its feature names. */
export interface FeatureGroup<E, K extends string = string> {
  /** The feature names, in definition order. */
  readonly names: readonly K[]
  /** Entity key extractor. */
  readonly entity: (event: E) => unknown
  /** Event-time extractor. */
  readonly eventTime: (event: E) => unknown
  /** The features, in definition order. */
  readonly features: readonly ResolvedFeature<E>[]
  /** Serializable descriptions, for sinks, stores, logs and readers. */
  describe(): FeatureInfo[]
}

const FEATURE_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/

/**
 * Whether `name` cannot be a feature name because it would be a key of a plain object that is not
 * its own: `__proto__`, `constructor`, `prototype` or any other member of `Object.prototype`.
 * Feature vectors and user code index plain objects by feature name; `values.__proto__ = v` sets
 * a prototype instead of a property, so such a feature would vanish from vectors.
 */
export function isReservedFeatureName(name: string): boolean {
  return name === 'prototype' || name in Object.prototype
}

/** Result types decided by the aggregate itself: a different declared `valueType` is refused. */
const FIXED_TYPES: Readonly<Record<string, ValueType>> = {
  count: 'int64',
  distinct_count: 'int64',
  mean: 'double',
}
/** Aggregates whose result has the type of their inputs: double, or int64 fed safe integers only. */
const NUMERIC_KINDS: Readonly<Record<string, (t: 'double' | 'int64') => Aggregator>> = {
  sum: sum as (t: 'double' | 'int64') => Aggregator,
  min: min as (t: 'double' | 'int64') => Aggregator,
  max: max as (t: 'double' | 'int64') => Aggregator,
}

/**
 * Define a group of features over events of type `E`.
 * @throws InvalidDefinitionError with a message saying what to change (bad window, unknown
 *   aggregator, missing value extractor, tiles on a non-additive aggregator...).
 */
export function defineFeatures<E, K extends string = string>(
  spec: FeatureGroupSpec<E, K>,
): FeatureGroup<E, K> {
  if (!spec || typeof spec.entity !== 'function') {
    throw new InvalidDefinitionError('core: defineFeatures needs `entity: (event) => key`')
  }
  if (typeof spec.eventTime !== 'function') {
    throw new InvalidDefinitionError(
      'core: defineFeatures needs `eventTime: (event) => ms | Date | ISO string`',
    )
  }
  const names = spec.features ? Object.keys(spec.features) : []
  if (names.length === 0) throw new InvalidDefinitionError('core: defineFeatures needs at least one feature')
  const features = names.map((name) => resolveFeature(name, spec.features[name as K] as FeatureSpec<E>))
  const infos = features.map(
    (f): FeatureInfo => ({
      name: f.name,
      valueType: f.valueType,
      window: f.window,
      aggregate: f.aggregator.kind,
      emit: f.emit,
      ...f.metadata,
    }),
  )
  return {
    names: names as K[],
    entity: spec.entity,
    eventTime: spec.eventTime,
    features,
    describe: () => infos.map((i) => (i.tags === undefined ? { ...i } : { ...i, tags: [...i.tags] })),
  }
}

function resolveFeature<E>(name: string, f: FeatureSpec<E>): ResolvedFeature<E> {
  if (!FEATURE_NAME.test(name)) {
    throw new InvalidDefinitionError(
      `core: feature name '${name}' is invalid: use letters, digits, '_', '.', ':' or '-', starting with a letter or '_'`,
    )
  }
  if (isReservedFeatureName(name)) {
    throw new InvalidDefinitionError(
      `core: feature name '${name}' is reserved (a member of Object.prototype, which a feature vector could not hold): rename the feature, e.g. '${name}_value'`,
    )
  }
  if (!f || typeof f !== 'object')
    throw new InvalidDefinitionError(`core: feature '${name}' needs a definition object`)
  const window = validateWindow(name, f.window)
  let aggregator = resolveAggregator(f.aggregate, name)
  let value = f.value
  if (value !== undefined && typeof value !== 'function') {
    throw new InvalidDefinitionError(`core: feature '${name}': value must be a function (event) => value`)
  }
  if (value === undefined && aggregator.kind !== 'count') {
    if (BUILT_IN_NEEDS_VALUE.has(aggregator.kind)) {
      throw new InvalidDefinitionError(
        `core: feature '${name}': aggregate '${aggregator.kind}' needs value: (event) => the value to aggregate`,
      )
    }
    value = (e: E) => e
  }
  if (aggregator.kind === 'count') value = undefined
  const valueType = f.valueType ?? aggregator.valueType
  if (!VALUE_TYPES.includes(valueType)) {
    throw new InvalidDefinitionError(
      `core: feature '${name}': valueType must be one of ${VALUE_TYPES.join(', ')}`,
    )
  }
  aggregator = fitValueType(name, aggregator, valueType)
  const emit = f.emit ?? 'value'
  if (emit !== 'value' && emit !== 'tiles') {
    throw new InvalidDefinitionError(
      `core: feature '${name}': emit must be 'value' or 'tiles', got '${String(emit)}'`,
    )
  }
  if (emit === 'tiles') {
    if (!aggregator.additive) {
      throw new InvalidDefinitionError(
        `core: feature '${name}': emit 'tiles' needs an additive aggregator (count or sum), not '${aggregator.kind}'`,
      )
    }
    if (window.kind !== 'tumbling' && window.kind !== 'hopping') {
      throw new InvalidDefinitionError(
        `core: feature '${name}': emit 'tiles' needs a tumbling or hopping window, not '${window.kind}'`,
      )
    }
  }
  return {
    name,
    window,
    aggregator,
    value,
    valueType,
    emit,
    suppressUnchanged: f.suppressUnchanged ?? false,
    metadata: featureMetadata(name, f),
  }
}

/**
 * The aggregator that produces `valueType`, or an InvalidDefinitionError when the aggregate
 * decides another type: a conflict found here would otherwise be a silent loss at the store.
 */
function fitValueType(name: string, agg: Aggregator, valueType: ValueType): Aggregator {
  if (agg.valueType === valueType) return agg
  const kind = agg.kind
  const fixed = Object.hasOwn(FIXED_TYPES, kind) ? FIXED_TYPES[kind] : undefined
  if (fixed !== undefined) {
    throw new InvalidDefinitionError(
      `core: feature '${name}': aggregate '${kind}' always gives ${fixed} values, so valueType '${valueType}' conflicts; remove valueType or set it to '${fixed}'`,
    )
  }
  // `last` validates its inputs against the feature's declared type.
  if (kind === 'last') return last(valueType)
  const numeric = Object.hasOwn(NUMERIC_KINDS, kind) ? NUMERIC_KINDS[kind] : undefined
  if (numeric !== undefined) {
    if (valueType !== 'double' && valueType !== 'int64') {
      throw new InvalidDefinitionError(
        `core: feature '${name}': aggregate '${kind}' gives numbers, so valueType '${valueType}' conflicts; use 'double' or 'int64'`,
      )
    }
    return numeric(valueType)
  }
  throw new InvalidDefinitionError(
    `core: feature '${name}': aggregator '${kind}' declares valueType '${agg.valueType}', so valueType '${valueType}' conflicts; remove valueType or change the aggregator's`,
  )
}

const BUILT_IN_NEEDS_VALUE = new Set(['sum', 'min', 'max', 'mean', 'last', 'distinct_count'])

/** Re-validate a window through its constructor so hand-written objects get the same checks. */
function validateWindow(name: string, w: WindowSpec): WindowSpec {
  if (!w || typeof w !== 'object') {
    throw new InvalidDefinitionError(
      `core: feature '${name}' needs a window: tumbling('1h'), hopping('5m', '1m'), session('30m') or unbounded()`,
    )
  }
  try {
    switch (w.kind) {
      case 'tumbling':
        return tumbling(w.sizeMs)
      case 'hopping':
        return hopping(w.sizeMs, w.hopMs)
      case 'session':
        return session(w.gapMs)
      case 'unbounded':
        return unbounded()
      default:
        throw new InvalidDefinitionError(
          `core: unknown window kind '${String((w as { kind: unknown }).kind)}': use tumbling, hopping, session or unbounded`,
        )
    }
  } catch (err) {
    if (err instanceof InvalidDefinitionError) {
      throw new InvalidDefinitionError(`core: feature '${name}': ${err.message.replace(/^core: /, '')}`, {
        cause: err,
      })
    }
    throw err
  }
}
