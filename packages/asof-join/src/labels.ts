/**
 * Normalises the three label shapes (Arrow table, columns, row objects) to: the output vectors of
 * every label column, a dense entity code per row and the label times in ms.
 */
import { InvalidArgumentError, parseTime } from '@skewless/core'
import { looksLikeSeconds, secondsLikeMessage, secondsLikeReason } from '@skewless/core/adapter'
import {
  type Data,
  DataType,
  type Field,
  makeVector,
  Table,
  type Vector,
  vectorFromArray,
} from 'apache-arrow'
import { readNumbers, timeFactor } from './arrow-read.js'
import { ColumnTypeError, InvalidTimeError, MissingColumnError } from './errors.js'
import { encodeEntities } from './label-entities.js'
import type { StringTable } from './string-table.js'
import type { Labels } from './types.js'

/** Labels ready for the join. */
export interface PreparedLabels {
  length: number
  names: string[]
  vectors: Vector[]
  /** Arrow fields of a table input (kept for metadata), else undefined. */
  fields: Field[] | undefined
  /** Kind of the entity keys; 'none' when every key is null. */
  entityKind: 'string' | 'int' | 'none'
  /** Dense entity code per row, -1 for a null key. */
  codes: Int32Array
  /** Number of entity codes (some may have no label row, e.g. unused dictionary entries). */
  numEntities: number
  /** String keys by code (kind 'string'). */
  strings: StringTable | undefined
  /** Integer keys by code (kind 'int'). */
  ints: number[] | undefined
  /** Label time per row, ms since epoch. */
  times: Float64Array
}

type Column = Vector | ArrayLike<unknown>

function isTypedArray(x: unknown): x is ArrayLike<number> | BigInt64Array {
  return ArrayBuffer.isView(x) && !(x instanceof DataView)
}

function toColumns(labels: Labels): { names: string[]; columns: Column[]; fields?: Field[]; length: number } {
  if (labels instanceof Table) {
    const fields = labels.schema.fields
    return {
      names: fields.map((f) => f.name),
      columns: fields.map((_, i) => labels.getChildAt(i) as Vector),
      fields,
      length: labels.numRows,
    }
  }
  if (Array.isArray(labels)) {
    const rows = labels as readonly Record<string, unknown>[]
    const names: string[] = []
    const seen = new Set<string>()
    for (const row of rows) {
      for (const k of Object.keys(row)) {
        if (!seen.has(k)) {
          seen.add(k)
          names.push(k)
        }
      }
    }
    const columns = names.map((n) => rows.map((r) => (r[n] === undefined ? null : r[n])))
    return { names, columns, length: rows.length }
  }
  if (labels === null || typeof labels !== 'object') {
    throw new InvalidArgumentError(
      'asof-join: labels must be an Arrow Table, an object of columns or an array of rows',
    )
  }
  const obj = labels as Readonly<Record<string, ArrayLike<unknown>>>
  const names = Object.keys(obj)
  const columns = names.map((n) => obj[n] as ArrayLike<unknown>)
  const length = columns.length > 0 ? (columns[0] as ArrayLike<unknown>).length : 0
  for (let i = 0; i < names.length; i++) {
    const c = columns[i] as ArrayLike<unknown>
    if (c === null || typeof c !== 'object' || typeof c.length !== 'number') {
      throw new ColumnTypeError(
        names[i] as string,
        `label column '${names[i]}' must be an array or a typed array`,
      )
    }
    if (c.length !== length) {
      throw new ColumnTypeError(
        names[i] as string,
        `label column '${names[i]}' has ${c.length} rows but '${names[0]}' has ${length}: all columns need the same length`,
      )
    }
  }
  return { names, columns, length }
}

function toVector(name: string, c: Column): Vector {
  if (!Array.isArray(c) && !isTypedArray(c)) return c as Vector
  try {
    return isTypedArray(c)
      ? (makeVector(c as Float64Array) as Vector)
      : (vectorFromArray(c as unknown[]) as Vector)
  } catch (cause) {
    throw new ColumnTypeError(name, `label column '${name}' cannot be converted to Arrow: ${String(cause)}`, {
      cause,
    })
  }
}

function readTimes(name: string, c: Column, length: number, allowEarlyTimes: boolean): Float64Array {
  const out = new Float64Array(length)
  if (!Array.isArray(c) && !isTypedArray(c)) {
    const v = c as Vector
    const t = DataType.isDictionary(v.type) ? v.type.dictionary : v.type
    if (DataType.isUtf8(t) || DataType.isLargeUtf8(t)) {
      const strings = Array.from({ length }, (_, i) => v.get(i) as unknown)
      return readTimes(name, strings, length, allowEarlyTimes)
    }
    const factor = timeFactor(v.type, name)
    let row = 0
    for (const data of v.data as Data[]) {
      readNumbers(
        data,
        0,
        data.length,
        out.subarray(row, row + data.length),
        factor,
        name,
        row,
        undefined,
        'half',
      )
      row += data.length
    }
    // Integer and float columns are bare numbers: a Timestamp or Date column carries its unit.
    if (!allowEarlyTimes && (DataType.isInt(v.type) || DataType.isFloat(v.type))) {
      for (let i = 0; i < length; i++) {
        const t = out[i] as number
        if (looksLikeSeconds(t)) throw new InvalidTimeError(name, i, t, secondsLikeReason(t))
      }
    }
    return out
  }
  const a = c as ArrayLike<unknown>
  for (let i = 0; i < length; i++) {
    const x = a[i]
    if (x === null || x === undefined) throw new InvalidTimeError(name, i, x)
    const kind = typeof x
    if (kind !== 'number' && kind !== 'bigint' && kind !== 'string' && !(x instanceof Date)) {
      throw new ColumnTypeError(
        name,
        `label column '${name}' row ${i} has a ${kind}: label times must be ms since epoch (number or bigint), a Date or an ISO-8601 string with an offset`,
      )
    }
    // Core's one parser: the pipeline's door reads event times the same way.
    const t = parseTime(x)
    if (!Number.isFinite(t)) {
      throw new InvalidTimeError(
        name,
        i,
        x,
        kind === 'string'
          ? 'is not ms or an ISO-8601 date or date-time with an offset (Z or ±hh:mm)'
          : undefined,
      )
    }
    if (!allowEarlyTimes && looksLikeSeconds(t) && secondsLikeMessage(x, t) !== undefined) {
      throw new InvalidTimeError(name, i, t, secondsLikeReason(t))
    }
    out[i] = t
  }
  return out
}

/** Validate and normalise labels. */
export function prepareLabels(
  labels: Labels,
  entityColumn: string,
  timeColumn: string,
  allowEarlyTimes = false,
): PreparedLabels {
  const { names, columns, fields, length } = toColumns(labels)
  const ei = names.indexOf(entityColumn)
  if (ei < 0) throw new MissingColumnError(entityColumn, 'labels', ' (set options.entityColumn)')
  const ti = names.indexOf(timeColumn)
  if (ti < 0) throw new MissingColumnError(timeColumn, 'labels', ' (set options.timeColumn)')
  const { enc, codes } = encodeEntities(entityColumn, columns[ei] as Column, length)
  const times = readTimes(timeColumn, columns[ti] as Column, length, allowEarlyTimes)
  const vectors = names.map((n, i) => toVector(n, columns[i] as Column))
  return {
    length,
    names,
    vectors,
    fields,
    entityKind: enc.kind,
    codes,
    numEntities: enc.numEntities,
    strings: enc.kind === 'string' ? enc.strings : undefined,
    ints: enc.kind === 'int' ? enc.ints : undefined,
    times,
  }
}
