/**
 * Dense codes for label entity keys: strings interned by their UTF-8 bytes, integers through a
 * direct table (compact ranges) or a Map. Mixed string/integer keys are an error.
 */
import { getInt64 } from '@skewless/core/internal'
import { type Data, DataType, type Vector } from 'apache-arrow'
import { int64View, is64, isNull } from './arrow-read.js'
import { ColumnTypeError } from './errors.js'
import { StringTable } from './string-table.js'

type Column = Vector | ArrayLike<unknown>

function isTypedArray(x: unknown): x is ArrayLike<number> | BigInt64Array {
  return ArrayBuffer.isView(x) && !(x instanceof DataView)
}

export class EntityEncoder {
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
        for (let i = 0; i < n; i++) nums[i] = getInt64(v32, i)
      } else {
        const vals = data.values as Float64Array
        for (let i = 0; i < n; i++) nums[i] = vals[i] as number
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

export function encodeEntities(
  name: string,
  c: Column,
  length: number,
): { enc: EntityEncoder; codes: Int32Array } {
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
