/**
 * Built-in aggregators. Accumulators of count, sum, min and max are plain numbers so the hot
 * path allocates nothing; `add` and `merge` may mutate and return their first argument.
 */
import { InvalidDefinitionError } from './errors.js'
import { intInputMessage } from './input-checks.js'
import type { Aggregator, FeatureValue, ValueType } from './types.js'
import { checkValueType, describe, VALUE_TYPES } from './value-types.js'

const notFiniteNumber = (v: unknown): string | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? undefined : `expected a finite number, got ${describe(v)}`
const notFiniteInt = (v: unknown): string | undefined => notFiniteNumber(v) ?? intInputMessage(v)

/** The numeric result types of sum, min and max: int64 ones accept safe integers only. */
export type NumericType = 'double' | 'int64'

function numericType(kind: string, valueType: NumericType): NumericType {
  if (valueType !== 'double' && valueType !== 'int64') {
    throw new InvalidDefinitionError(
      `${kind}(valueType): valueType must be 'double' or 'int64', got ${describe(valueType)}`,
    )
  }
  return valueType
}

/** Number of events. Additive. */
export function count(): Aggregator<unknown, number, number> {
  return {
    kind: 'count',
    valueType: 'int64',
    additive: true,
    init: () => 0,
    add: (acc) => acc + 1,
    merge: (a, b) => a + b,
    retract: (a, b) => a - b,
    result: (acc) => acc,
  }
}

/**
 * Sum of a numeric value. Additive.
 * @param valueType `'int64'` refuses non-integer inputs (dead-lettered `invalid-value`). @default 'double'
 */
export function sum(valueType: NumericType = 'double'): Aggregator<number, number, number> {
  const type = numericType('sum', valueType)
  return {
    kind: 'sum',
    valueType: type,
    additive: true,
    init: () => 0,
    add: (acc, v) => acc + v,
    merge: (a, b) => a + b,
    retract: (a, b) => a - b,
    result: (acc) => acc,
    validate: type === 'int64' ? notFiniteInt : notFiniteNumber,
  }
}

/**
 * Smallest numeric value; `null` for an empty window.
 * @param valueType `'int64'` refuses non-integer inputs (dead-lettered `invalid-value`). @default 'double'
 */
export function min(valueType: NumericType = 'double'): Aggregator<number, number, number | null> {
  const type = numericType('min', valueType)
  return {
    kind: 'min',
    valueType: type,
    init: () => Number.POSITIVE_INFINITY,
    add: (acc, v) => Math.min(v, acc),
    merge: (a, b) => Math.min(b, a),
    result: (acc) => (acc === Number.POSITIVE_INFINITY ? null : acc),
    validate: type === 'int64' ? notFiniteInt : notFiniteNumber,
    toJSON: (acc) => (acc === Number.POSITIVE_INFINITY ? null : acc),
    fromJSON: (j) => (j === null ? Number.POSITIVE_INFINITY : (j as number)),
  }
}

/**
 * Largest numeric value; `null` for an empty window.
 * @param valueType `'int64'` refuses non-integer inputs (dead-lettered `invalid-value`). @default 'double'
 */
export function max(valueType: NumericType = 'double'): Aggregator<number, number, number | null> {
  const type = numericType('max', valueType)
  return {
    kind: 'max',
    valueType: type,
    init: () => Number.NEGATIVE_INFINITY,
    add: (acc, v) => Math.max(v, acc),
    merge: (a, b) => Math.max(b, a),
    result: (acc) => (acc === Number.NEGATIVE_INFINITY ? null : acc),
    validate: type === 'int64' ? notFiniteInt : notFiniteNumber,
    toJSON: (acc) => (acc === Number.NEGATIVE_INFINITY ? null : acc),
    fromJSON: (j) => (j === null ? Number.NEGATIVE_INFINITY : (j as number)),
  }
}

/** Arithmetic mean of a numeric value; `null` for an empty window. Accumulator: `[sum, count]`. */
export function mean(): Aggregator<number, [number, number], number | null> {
  return {
    kind: 'mean',
    valueType: 'double',
    init: () => [0, 0],
    add: (acc, v) => {
      acc[0] += v
      acc[1] += 1
      return acc
    },
    merge: (a, b) => {
      a[0] += b[0]
      a[1] += b[1]
      return a
    },
    retract: (a, b) => {
      a[0] -= b[0]
      a[1] -= b[1]
      return a
    },
    result: (acc) => (acc[1] === 0 ? null : acc[0] / acc[1]),
    validate: notFiniteNumber,
    toJSON: (acc) => [acc[0], acc[1]],
    fromJSON: (j) => {
      const a = j as [number, number]
      return [a[0], a[1]]
    },
  }
}

/** Accumulator of `last`: the value of the event with the greatest event time seen. */
export interface LastAcc {
  /** Event time of the value, `-Infinity` when empty. */
  time: number
  /** The value. */
  value: FeatureValue
}

/**
 * The value of the latest event (greatest event time; on equal times the one that arrived last);
 * `null` for an empty window.
 * @param valueType type of the values. @default 'double'
 */
export function last(valueType: ValueType = 'double'): Aggregator<FeatureValue, LastAcc, FeatureValue> {
  return {
    kind: 'last',
    valueType,
    init: () => ({ time: Number.NEGATIVE_INFINITY, value: null }),
    add: (acc, v, eventTime = 0) => {
      if (eventTime >= acc.time) {
        acc.time = eventTime
        acc.value = v
      }
      return acc
    },
    merge: (a, b) => {
      if (b.time >= a.time) {
        a.time = b.time
        a.value = b.value
      }
      return a
    },
    result: (acc) => acc.value,
    validate: (v) => checkValueType(v, valueType),
    toJSON: (acc) => ({ time: acc.time === Number.NEGATIVE_INFINITY ? null : acc.time, value: acc.value }),
    fromJSON: (j) => {
      const o = j as { time: number | null; value: FeatureValue }
      return { time: o.time === null ? Number.NEGATIVE_INFINITY : o.time, value: o.value }
    },
  }
}

/** Number of distinct values (strings or numbers), exact. Accumulator: a `Set`. */
export function distinctCount(): Aggregator<string | number, Set<string | number>, number> {
  return {
    kind: 'distinct_count',
    valueType: 'int64',
    init: () => new Set(),
    add: (acc, v) => acc.add(v),
    merge: (a, b) => {
      for (const v of b) a.add(v)
      return a
    },
    result: (acc) => acc.size,
    validate: (v) =>
      (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string'
        ? undefined
        : `expected a string or finite number, got ${describe(v)}`,
    toJSON: (acc) => Array.from(acc),
    fromJSON: (j) => new Set(j as (string | number)[]),
  }
}

/** Definition of a user-defined aggregator: the same members as `Aggregator`. */
export type AggregatorDefinition<In, Acc, Out extends FeatureValue> = Aggregator<In, Acc, Out>

/**
 * A user-defined aggregator from `init/add/merge/result` (and optional `retract`, `validate`,
 * `toJSON`/`fromJSON` for checkpoints of non-JSON accumulators).
 * @throws InvalidDefinitionError when a required member is missing.
 */
export function aggregator<In, Acc, Out extends FeatureValue>(
  def: AggregatorDefinition<In, Acc, Out>,
): Aggregator<In, Acc, Out> {
  if (!def || typeof def.kind !== 'string' || def.kind.length === 0) {
    throw new InvalidDefinitionError('core: a user-defined aggregator needs a non-empty `kind` name')
  }
  for (const m of ['init', 'add', 'merge', 'result'] as const) {
    if (typeof def[m] !== 'function') {
      throw new InvalidDefinitionError(
        `core: aggregator '${def.kind}' is missing ${m}(): a user-defined aggregator needs init, add, merge and result`,
      )
    }
  }
  if (!VALUE_TYPES.includes(def.valueType)) {
    throw new InvalidDefinitionError(
      `core: aggregator '${def.kind}' has valueType ${String(def.valueType)}: use one of ${VALUE_TYPES.join(', ')}`,
    )
  }
  return def
}

const BUILT_INS: Record<string, () => Aggregator> = {
  count: count as () => Aggregator,
  sum: sum as () => Aggregator,
  min: min as () => Aggregator,
  max: max as () => Aggregator,
  mean: mean as () => Aggregator,
  last: last as () => Aggregator,
  distinct_count: distinctCount as () => Aggregator,
}

/** Names accepted where an aggregator can be given as a string. */
export const AGGREGATOR_NAMES = Object.keys(BUILT_INS)

/**
 * Resolve an aggregator given as an object or a built-in name.
 * @throws InvalidDefinitionError for an unknown name.
 */
export function resolveAggregator(agg: Aggregator | string, featureName: string): Aggregator {
  if (typeof agg === 'string') {
    // Own names only: 'constructor' or 'toString' must not resolve to Object.prototype's members.
    const make = Object.hasOwn(BUILT_INS, agg) ? BUILT_INS[agg] : undefined
    if (!make) {
      throw new InvalidDefinitionError(
        `core: feature '${featureName}': unknown aggregator '${agg}'; use one of ${AGGREGATOR_NAMES.join(', ')} or aggregator({...})`,
      )
    }
    return make()
  }
  if (!agg || typeof agg !== 'object' || typeof agg.add !== 'function') {
    throw new InvalidDefinitionError(
      `core: feature '${featureName}': aggregate must be an aggregator (count(), sum(), ...) or one of ${AGGREGATOR_NAMES.join(', ')}`,
    )
  }
  return agg
}
