/**
 * Maps the log's entity column to the labels' dense entity codes. Integer label keys match a Utf8
 * log entity by their decimal string (`String(n)`) and an integer log entity by value; string label
 * keys never match an integer log entity (that is an `EntityTypeMismatchError`: '007' and 7 are not
 * the same key, and guessing would join the wrong rows).
 */
import { getInt64 } from '@skewless/core/internal'
import { type Data, DataType } from 'apache-arrow'
import { int64View, is64 } from './arrow-read.js'
import { ColumnTypeError, EntityTypeMismatchError } from './errors.js'
import type { PreparedLabels } from './labels.js'
import { StringTable } from './string-table.js'

export class LogEntityMatcher {
  private strings: StringTable | undefined
  private direct: Int32Array | undefined
  private directMin = 0
  private byInt: Map<number, number> | undefined
  private readonly kind: 'string' | 'int' | 'none'
  private readonly keys: readonly number[]

  constructor(
    labels: PreparedLabels,
    private readonly labelColumn: string,
    private readonly column = 'entity',
  ) {
    this.kind = labels.entityKind
    this.strings = labels.strings
    this.keys = labels.ints ?? []
  }

  /** Entity codes of log rows [start, start+n) into out (-1: no label has this entity). */
  codes(data: Data, start: number, n: number, out: Int32Array): void {
    if (this.kind === 'none') {
      out.fill(-1, 0, n)
      return
    }
    const t = data.type
    if (DataType.isInt(t) || DataType.isFloat(t)) {
      if (this.kind === 'string') {
        throw new EntityTypeMismatchError(
          this.labelColumn,
          `label column '${this.labelColumn}' has string keys but log column '${this.column}' is ${String(t)}: use integer label keys or a Utf8 log entity`,
        )
      }
      this.intCodes(data, start, n, out)
      return
    }
    if (!this.strings) this.strings = StringTable.of(this.keys.map((k) => String(k)))
    if (!this.strings.codes(data, start, n, out)) {
      throw new ColumnTypeError(
        this.column,
        `log column '${this.column}' has type ${String(t)}: entity must be Utf8, Dictionary<Utf8> or integer`,
      )
    }
  }

  private intCodes(data: Data, start: number, n: number, out: Int32Array): void {
    if (!this.direct && !this.byInt) this.buildIntIndex()
    // Values are read at start + i (Arrow slices the value buffer), validity at offset + start + i.
    const o = start
    const direct = this.direct
    const min = this.directMin
    const vals = data.values as Int32Array
    if (direct && vals instanceof Int32Array) {
      // The common case, kept as a tight monomorphic loop: one array load per row.
      const len = direct.length
      for (let i = 0; i < n; i++) {
        const d = (vals[o + i] as number) - min
        out[i] = d >= 0 && d < len ? (direct[d] as number) : -1
      }
    } else {
      const v32 = is64(data) ? int64View(data.values as BigInt64Array) : undefined
      for (let i = 0; i < n; i++) {
        let x: number
        if (v32) x = getInt64(v32, o + i)
        else x = vals[o + i] as number
        if (direct) {
          const d = x - min
          out[i] = d >= 0 && d < direct.length && d === Math.floor(d) ? (direct[d] as number) : -1
        } else out[i] = (this.byInt as Map<number, number>).get(x) ?? -1
      }
    }
    if (data.nullCount > 0) {
      const bm = data.nullBitmap as Uint8Array
      for (let i = 0; i < n; i++) {
        const k = data.offset + o + i
        if (((bm[k >> 3] as number) & (1 << (k & 7))) === 0) out[i] = -1
      }
    }
  }

  private buildIntIndex(): void {
    const keys = this.keys
    let min = Number.POSITIVE_INFINITY
    let max = Number.NEGATIVE_INFINITY
    for (const k of keys) {
      if (k < min) min = k
      if (k > max) max = k
    }
    const range = max - min + 1
    // A direct table is one array load per log row; use it while it is not much larger than the keys.
    if (range <= Math.max(keys.length * 8, 1 << 20)) {
      this.direct = new Int32Array(range).fill(-1)
      this.directMin = min
      for (let c = 0; c < keys.length; c++) this.direct[(keys[c] as number) - min] = c
    } else {
      this.byInt = new Map()
      for (let c = 0; c < keys.length; c++) this.byInt.set(keys[c] as number, c)
    }
  }
}
