/**
 * The output of a join: per feature, typed arrays in label row order, turned into Arrow columns
 * appended after the label columns. Every value is 8 raw bytes per row whatever its type (a double;
 * an int64's two 32-bit words; a bool or a string code in the low word), so the kernel moves values
 * without knowing their type and no JS value is made per row. 64-bit columns are written through an
 * Int32 view (no BigInt per row).
 */
import { getInt64, setInt64 } from '@skewless/core/internal'
import {
  Bool,
  type Data,
  type DataType,
  Field,
  Float64,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMillisecond,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow'
import { ColumnTypeError, Int64RangeError } from './errors.js'
import type { PreparedLabels } from './labels.js'
import type { ResolvedFeature } from './resolve-features.js'
import { StringTable } from './string-table.js'

export interface FeatureColumn {
  /** 1 when a record was chosen (and not dropped by maxAge). */
  found: Uint8Array
  /**
   * Whether `found`, `eventTime` and `age` are kept (the feature adds `__event_time` or `__age_ms`);
   * else they are empty, which saves 17 bytes per label and feature.
   */
  extra: boolean
  /** 1 when the chosen record's value is non-null. */
  valid: Uint8Array
  eventTime: Float64Array
  age: Float64Array
  /** The value of row i as a double (double features), over the same bytes as `words`. */
  num: Float64Array
  /** The value of row i as words [2i] (low), [2i + 1] (high): int64, bool (0/1), string code. */
  words: Int32Array
}

export interface JoinOutput {
  features: FeatureColumn[]
  /** Codes of string values (`words[2i]` of a string feature) → their UTF-8 bytes. */
  strings: StringTable
}

export function createOutput(length: number, features: readonly ResolvedFeature[]): JoinOutput {
  return {
    strings: new StringTable(1024),
    features: features.map((f) => {
      const num = new Float64Array(length)
      const extra = f.includeEventTime || f.includeAge
      const n = extra ? length : 0
      return {
        found: new Uint8Array(n),
        extra,
        valid: new Uint8Array(length),
        eventTime: new Float64Array(n),
        age: new Float64Array(n),
        num,
        words: new Int32Array(num.buffer),
      }
    }),
  }
}

/** `Math.floor` of each value (a sub-ms label time has a whole-ms age, as `int64Data` writes it). */
function floorAll(values: Float64Array): Float64Array {
  const out = new Float64Array(values.length)
  for (let i = 0; i < values.length; i++) out[i] = Math.floor(values[i] as number)
  return out
}

function bitmap(flags: Uint8Array): { bitmap: Uint8Array; nullCount: number } {
  const bm = new Uint8Array(((flags.length + 63) >> 6) << 3)
  let nulls = 0
  for (let i = 0; i < flags.length; i++) {
    if (flags[i] === 1) bm[i >> 3] = (bm[i >> 3] as number) | (1 << (i & 7))
    else nulls++
  }
  return { bitmap: bm, nullCount: nulls }
}

function int64Data(type: DataType, values: Float64Array, flags: Uint8Array) {
  const words = new Int32Array(values.length * 2)
  for (let i = 0; i < values.length; i++) {
    // floor: a sub-ms label time (kept as floor + 0.5) has a whole-ms age of floor(t) - eventTime.
    setInt64(words, i, Math.floor(values[i] as number))
  }
  const { bitmap: nullBitmap, nullCount } = bitmap(flags)
  const data = new BigInt64Array(words.buffer)
  return makeData({ type: type as Int64, length: values.length, nullCount, nullBitmap, data })
}

/**
 * An int64 feature column as Float64 numbers (`int64: 'number'`): exact, or an `Int64RangeError`
 * naming the first value a number cannot hold (|v| > 2^53 - 1); never rounded, and a null stays null.
 */
function int64AsNumbers(f: ResolvedFeature, col: FeatureColumn, length: number): Float64Array {
  const out = new Float64Array(length)
  const w = col.words
  for (let i = 0; i < length; i++) {
    if (col.valid[i] !== 1) continue
    const hi = w[2 * i + 1] as number
    const x = getInt64(w, i)
    // |v| >= 2^53 has a high word outside [-2^21, 2^21); inside it the sum is exact.
    if (hi >= 2097152 || hi < -2097152 || !Number.isSafeInteger(x)) {
      const exact = new BigInt64Array(w.buffer, w.byteOffset + 8 * i, 1)[0] as bigint
      throw new Int64RangeError(f.name, i, exact)
    }
    out[i] = x
  }
  return out
}

function valueData(
  f: ResolvedFeature,
  col: FeatureColumn,
  length: number,
  strings: StringTable,
  int64: 'number' | 'bigint',
) {
  const { bitmap: nullBitmap, nullCount } = bitmap(col.valid)
  switch (f.type) {
    case 'double':
      return makeData({ type: new Float64(), length, nullCount, nullBitmap, data: col.num })
    case 'int64':
      if (int64 === 'number') {
        const data = int64AsNumbers(f, col, length)
        return makeData({ type: new Float64(), length, nullCount, nullBitmap, data })
      }
      return makeData({
        type: new Int64(),
        length,
        nullCount,
        nullBitmap,
        data: new BigInt64Array(col.num.buffer, col.num.byteOffset, length),
      })
    case 'bool': {
      const bits = new Uint8Array(nullBitmap.length)
      const w = col.words
      for (let i = 0; i < length; i++)
        if (w[2 * i] !== 0) bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7))
      return makeData({ type: new Bool(), length, nullCount, nullBitmap, data: bits })
    }
    default:
      return utf8Data(strings, col, length, nullBitmap, nullCount)
  }
}

/** A Utf8 column from string codes: the bytes of each code copied as they were read (no decoding). */
function utf8Data(
  strings: StringTable,
  col: FeatureColumn,
  length: number,
  nullBitmap: Uint8Array,
  nullCount: number,
) {
  const offsets = new Int32Array(length + 1)
  const w = col.words
  let total = 0
  for (let i = 0; i < length; i++) {
    if (col.valid[i] === 1) total += strings.byteLength(w[2 * i] as number)
    offsets[i + 1] = total
  }
  const bytes = new Uint8Array(total)
  for (let i = 0; i < length; i++) {
    if (col.valid[i] === 1) strings.copyBytes(w[2 * i] as number, bytes, offsets[i] as number)
  }
  return makeData({ type: new Utf8(), length, nullCount, nullBitmap, valueOffsets: offsets, data: bytes })
}

function singleChunk(name: string, v: Vector) {
  if (v.data.length === 1) return v.data[0]
  if (v.data.length === 0) return vectorFromArray([], v.type).data[0]
  try {
    return vectorFromArray([...v], v.type).data[0]
  } catch (cause) {
    throw new ColumnTypeError(name, `label column '${name}' could not be rechunked: ${String(cause)}`, {
      cause,
    })
  }
}

/** Label columns in input order, then per feature: value, `__event_time`, `__age_ms`. */
export function buildTable(
  labels: PreparedLabels,
  features: readonly ResolvedFeature[],
  out: JoinOutput,
  int64: 'number' | 'bigint' = 'bigint',
): Table {
  const length = labels.length
  const fields: Field[] = []
  const children = []
  const taken = new Set(labels.names)
  const add = (name: string, field: Field, data: unknown) => {
    if (taken.has(name)) {
      throw new ColumnTypeError(
        name,
        `output column '${name}' collides with a label column of the same name: rename it`,
      )
    }
    taken.add(name)
    fields.push(field)
    children.push(data)
  }
  const chunks = alignedChunks(labels.vectors)
  for (let i = 0; i < labels.names.length; i++) {
    const name = labels.names[i] as string
    const v = labels.vectors[i] as Vector
    fields.push(labels.fields?.[i] ?? new Field(name, v.type, true))
    children.push(chunks === undefined ? singleChunk(name, v) : v.data)
  }
  for (let f = 0; f < features.length; f++) {
    const feat = features[f] as ResolvedFeature
    const col = out.features[f] as FeatureColumn
    const data = valueData(feat, col, length, out.strings, int64) as NonNullable<ReturnType<typeof valueData>>
    add(feat.name, new Field(feat.name, data.type, true), data)
    if (feat.includeEventTime) {
      const d = int64Data(new TimestampMillisecond(), col.eventTime, col.found)
      add(`${feat.name}__event_time`, new Field(`${feat.name}__event_time`, d.type, true), d)
    }
    if (feat.includeAge) {
      // Ages are differences of storable times: always exact as numbers.
      const d =
        int64 === 'number'
          ? makeData({ type: new Float64(), length, ...bitmap(col.found), data: floorAll(col.age) })
          : int64Data(new Int64(), col.age, col.found)
      add(`${feat.name}__age_ms`, new Field(`${feat.name}__age_ms`, d.type, true), d)
    }
  }
  const schema = new Schema(fields)
  const type = new Struct(fields)
  const nl = labels.names.length
  if (chunks === undefined) {
    const struct = makeData({ type, length, nullCount: 0, children: children as never })
    return new Table(schema, [new RecordBatch(schema, struct)])
  }
  // The labels' own batches, carried as they are (no re-encoding of their values); the feature
  // columns are cut at the same rows.
  const batches: RecordBatch[] = []
  let row = 0
  for (let b = 0; b < chunks.length; b++) {
    const n = chunks[b] as number
    const kids = children.map((c, i) => (i < nl ? (c as Data[])[b] : (c as Data).slice(row, n)))
    batches.push(
      new RecordBatch(schema, makeData({ type, length: n, nullCount: 0, children: kids as never })),
    )
    row += n
  }
  return new Table(schema, batches)
}

/**
 * Chunk lengths shared by every label column when they are chunked alike into more than one chunk
 * (an Arrow table's batches), else undefined (then each column is made one chunk).
 */
function alignedChunks(vectors: readonly Vector[]): number[] | undefined {
  const first = vectors[0]
  if (first === undefined || first.data.length < 2) return undefined
  const lens = first.data.map((d) => d.length)
  for (const v of vectors) {
    if (v.data.length !== lens.length) return undefined
    for (let i = 0; i < lens.length; i++) if ((v.data[i] as Data).length !== lens[i]) return undefined
  }
  return lens
}
