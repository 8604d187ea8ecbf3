/**
 * Normalises the three label shapes (Arrow table, columns, row objects) to: the output vectors of
 * every label column, a dense entity code per row and the label times in ms.
 */
import { InvalidArgumentError } from '@skewless/core'
import { type Data, type Field, makeVector, Table, type Vector, vectorFromArray } from 'apache-arrow'
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

function readTimes(name: string, c: Column, length: number): Float64Array {
  const out = new Float64Array(length)
  if (!Array.isArray(c) && !isTypedArray(c)) {
    const v = c as Vector
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
    return out
  }
  const a = c as ArrayLike<unknown>
  for (let i = 0; i < length; i++) {
    const x = a[i]
    let t: number
    if (typeof x === 'number') t = x
    else if (typeof x === 'bigint') t = Number(x)
    else if (x instanceof Date) t = x.getTime()
    else if (x === null || x === undefined) throw new InvalidTimeError(name, i, x)
    else {
      throw new ColumnTypeError(
        name,
        `label column '${name}' row ${i} has a ${typeof x}: label times must be ms since epoch (number), bigint or Date`,
      )
    }
    if (!Number.isFinite(t)) throw new InvalidTimeError(name, i, x)
    out[i] = t
  }
  return out
}

/** Validate and normalise labels. */
export function prepareLabels(labels: Labels, entityColumn: string, timeColumn: string): PreparedLabels {
  const { names, columns, fields, length } = toColumns(labels)
  const ei = names.indexOf(entityColumn)
  if (ei < 0) throw new MissingColumnError(entityColumn, 'labels', ' (set options.entityColumn)')
  const ti = names.indexOf(timeColumn)
  if (ti < 0) throw new MissingColumnError(timeColumn, 'labels', ' (set options.timeColumn)')
  const { enc, codes } = encodeEntities(entityColumn, columns[ei] as Column, length)
  const times = readTimes(timeColumn, columns[ti] as Column, length)
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
