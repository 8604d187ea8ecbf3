/**
 * Normalises the three label shapes (Arrow table, columns, row objects) to: the output vectors of
 * every label column, a dense entity code per row and the label times in ms.
 */
import { InvalidArgumentError } from '@skewless/core'
import {
  type Data,
  DataType,
  type Field,
  makeVector,
  Table,
  type Vector,
  vectorFromArray,
} from 'apache-arrow'
import { int64View, is64, isNull, readNumbers, timeFactor } from './arrow-read.js'
import { ColumnTypeError, InvalidTimeError, MissingColumnError } from './errors.js'
import { StringTable } from './string-table.js'
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

class EntityEncoder {
  kind: 'string' | 'int' | 'none' = 'none'
  readonly ints: number[] = []
  readonly strings = new StringTable(1024)
  private readonly map = new Map<number, number>()

  constructor(private readonly column: string) {}

  setKind(kind: 'string' | 'int'): void {
    if (kind !== this.kind) {
      if (this.kind !== 'none') {
        throw new ColumnTypeError(
          this.column,
          `label column '${this.column}' mixes string and integer entity keys`,
        )
      }
      this.kind = kind
    }
  }

  str(key: string): number {
    if (this.kind !== 'string') this.setKind('string')
    return this.strings.internString(key)
  }

  int(x: number, row: number): number {
    if (this.kind !== 'int') this.setKind('int')
    if (!Number.isSafeInteger(x)) {
      throw new ColumnTypeError(
        this.column,
        `label column '${this.column}' row ${row} has entity key ${x}: keys must be strings or safe integers`,
      )
    }
    let c = this.map.get(x)
    if (c === undefined) {
      c = this.ints.length
      this.ints.push(x)
      this.map.set(x, c)
    }
    return c
  }

  /**
   * Codes of many integer keys at once (rows with `nulls[i] === 1` get -1). While no key was seen
   * yet and the keys span a compact range, a direct table replaces the Map: one array load per row.
   */
  bulk(nums: ArrayLike<number>, out: Int32Array, row0: number, nulls?: Uint8Array): void {
    const n = nums.length
    let min = Number.POSITIVE_INFINITY
    let max = Number.NEGATIVE_INFINITY
    for (let i = 0; i < n; i++) {
      if (nulls?.[i] === 1) continue
      const x = nums[i] as number
      if (!Number.isSafeInteger(x)) this.int(x, row0 + i) // throws
      if (x < min) min = x
      if (x > max) max = x
    }
    if (min > max) {
      out.fill(-1, 0, n)
      return
    }
    if (this.ints.length > 0 || !(max - min < Math.max(4 * n, 1 << 20))) {
      for (let i = 0; i < n; i++) out[i] = nulls?.[i] === 1 ? -1 : this.int(nums[i] as number, row0 + i)
      return
    }
    this.setKind('int')
    const table = new Int32Array(max - min + 1).fill(-1)
    const ints = this.ints
    for (let i = 0; i < n; i++) {
      if (nulls?.[i] === 1) {
        out[i] = -1
        continue
      }
      const d = (nums[i] as number) - min
      let c = table[d] as number
      if (c < 0) {
        c = ints.length
        ints.push(nums[i] as number)
        table[d] = c
      }
      out[i] = c
    }
    for (let c = 0; c < ints.length; c++) this.map.set(ints[c] as number, c)
  }

  get numEntities(): number {
    return this.kind === 'string' ? this.strings.size : this.ints.length
  }
}

function encodeArrow(enc: EntityEncoder, v: Vector, name: string, codes: Int32Array): void {
  let row = 0
  for (const data of v.data as Data[]) {
    const t = data.type
    const n = data.length
    if (DataType.isNull(t)) {
      codes.fill(-1, row, row + n)
    } else if (DataType.isDictionary(t) || DataType.isUtf8(t) || DataType.isLargeUtf8(t)) {
      enc.setKind('string')
      if (!enc.strings.codes(data, 0, n, codes.subarray(row, row + n), true)) {
        throw new ColumnTypeError(
          name,
          `label column '${name}' has type ${String(t)}: entity keys must be Utf8 or integers`,
        )
      }
    } else if (DataType.isInt(t) || DataType.isFloat(t)) {
      const nums = new Float64Array(n)
      if (is64(data)) {
        const v32 = int64View(data.values as BigInt64Array)
        for (let i = 0; i < n; i++) {
          const k = (data.offset + i) << 1
          nums[i] = (v32[k + 1] as number) * 4294967296 + ((v32[k] as number) >>> 0)
        }
      } else {
        const vals = data.values as Float64Array
        for (let i = 0; i < n; i++) nums[i] = vals[data.offset + i] as number
      }
      let nulls: Uint8Array | undefined
      if (data.nullCount > 0) {
        nulls = new Uint8Array(n)
        for (let i = 0; i < n; i++) nulls[i] = isNull(data, i) ? 1 : 0
      }
      enc.bulk(nums, codes.subarray(row, row + n), row, nulls)
    } else {
      throw new ColumnTypeError(
        name,
        `label column '${name}' has type ${String(t)}: entity keys must be Utf8, Dictionary<Utf8> or integers`,
      )
    }
    row += n
  }
}

function encodeEntities(name: string, c: Column, length: number): { enc: EntityEncoder; codes: Int32Array } {
  const enc = new EntityEncoder(name)
  const codes = new Int32Array(length)
  if (!Array.isArray(c) && !isTypedArray(c)) encodeArrow(enc, c as Vector, name, codes)
  else if (c instanceof BigInt64Array || c instanceof BigUint64Array) {
    for (let i = 0; i < length; i++) codes[i] = enc.int(Number(c[i]), i)
  } else if (isTypedArray(c)) {
    enc.bulk(c as ArrayLike<number>, codes, 0)
  } else {
    const a = c as ArrayLike<unknown>
    for (let i = 0; i < length; i++) {
      const k = a[i]
      if (k === null || k === undefined) codes[i] = -1
      else if (typeof k === 'string') codes[i] = enc.str(k)
      else if (typeof k === 'number') codes[i] = enc.int(k, i)
      else if (typeof k === 'bigint') codes[i] = enc.int(Number(k), i)
      else {
        throw new ColumnTypeError(name, `label column '${name}' row ${i} has entity key of type ${typeof k}`)
      }
    }
  }
  return { enc, codes }
}

function readTimes(name: string, c: Column, length: number): Float64Array {
  const out = new Float64Array(length)
  if (!Array.isArray(c) && !isTypedArray(c)) {
    const v = c as Vector
    const factor = timeFactor(v.type, name)
    let row = 0
    for (const data of v.data as Data[]) {
      readNumbers(data, 0, data.length, out.subarray(row, row + data.length), factor, name, row)
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
