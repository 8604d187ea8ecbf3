/**
 * Reads the value of each log record of a requested feature as 8 raw bytes, column by column, so the
 * kernel moves values of every type alike (see output.ts) and no JS value is made per record: a
 * double as is; an int64's two 32-bit words straight from the column's buffer; a bool as 0/1; a
 * string as its code in the join's string table — a Dictionary<Utf8> column is mapped once per
 * dictionary, a Utf8 cell is interned by its bytes (no decoding, so every code point survives).
 *
 * Values are read at `start + i` (Arrow slices value buffers with the Data), validity and Bool bits
 * at `offset + start + i`.
 */
import { type Data, DataType, Precision } from 'apache-arrow'
import { int64View, is64 } from './arrow-read.js'
import { ColumnTypeError } from './errors.js'
import type { Block } from './partition-join.js'
import { VALUE_COLUMNS } from './resolve-features.js'
import type { StringTable } from './string-table.js'

function validAt(d: Data, k: number): number {
  if (d.nullCount === 0) return 1
  return ((d.nullBitmap as Uint8Array)[k >> 3] as number) & (1 << (k & 7)) ? 1 : 0
}

export class ValueReader {
  private cols: (Data | undefined)[] = []
  private i64: Int32Array | undefined
  private readonly strCodes: Int32Array
  /** Block start whose dictionary string codes are in `strCodes` (-1: none yet). */
  private strStart = -1

  constructor(
    /** Interns string values; its codes are what the output turns back into bytes. */
    private readonly strings: StringTable,
    /** Value kind (index into VALUE_COLUMNS) of each requested feature. */
    private readonly kinds: Int32Array,
    block: number,
  ) {
    this.strCodes = new Int32Array(block)
    this.allDouble = kinds.every((k) => k === 0)
  }

  private readonly allDouble: boolean

  /** Use the value columns of a new batch (undefined: absent). */
  bind(values: (Data | undefined)[]): void {
    const check = (k: number, ok: (t: DataType) => boolean, what: string) => {
      const d = values[k]
      if (d !== undefined && !ok(d.type)) {
        const name = VALUE_COLUMNS[k] as string
        throw new ColumnTypeError(name, `log column '${name}' has type ${String(d.type)}: it must be ${what}`)
      }
    }
    const dbl = values[0]
    if (dbl !== undefined && !(DataType.isFloat(dbl.type) && dbl.type.precision !== Precision.HALF)) {
      throw new ColumnTypeError(
        'value_double',
        `log column 'value_double' has type ${String(dbl.type)}: it must be Float64 (or Float32)`,
      )
    }
    check(1, (t) => DataType.isInt(t), 'Int64')
    check(2, (t) => DataType.isUtf8(t) || DataType.isLargeUtf8(t) || DataType.isDictionary(t), 'Utf8')
    check(3, (t) => DataType.isBool(t), 'Bool')
    this.cols = values
    const i64 = values[1]
    this.i64 = i64 !== undefined && is64(i64) ? int64View(i64.values as BigInt64Array) : undefined
  }

  /** Fill `b.valF` / `b.valW` / `b.valid` for the block's rows of requested features and known entities. */
  read(b: Block, start: number): void {
    const { fid, ent, valF, valW, valid } = b
    const kinds = this.kinds
    const [dbl, int, str, bool] = this.cols
    this.strStart = -1
    if (this.allDouble && dbl !== undefined && dbl.nullCount === 0) {
      // Only doubles and no nulls (the one-feature join): a straight copy, no test per row.
      const v = dbl.values as Float64Array
      for (let i = 0; i < b.n; i++) valF[i] = v[start + i] as number
      valid.fill(1, 0, b.n)
      return
    }
    for (let i = 0; i < b.n; i++) {
      const f = fid[i] as number
      if (f < 0 || (ent[i] as number) < 0) continue
      const row = start + i
      switch (kinds[f]) {
        case 0: {
          const d = dbl as Data
          const ok = validAt(d, d.offset + row)
          valid[i] = ok
          valF[i] = ok === 1 ? ((d.values as Float64Array)[row] as number) : 0
          break
        }
        case 1: {
          const d = int as Data
          const ok = validAt(d, d.offset + row)
          valid[i] = ok
          if (this.i64 !== undefined) {
            valW[2 * i] = this.i64[2 * row] as number
            valW[2 * i + 1] = this.i64[2 * row + 1] as number
          } else {
            // A narrower integer column: sign-extend into the high word.
            const x = ok === 1 ? ((d.values as Int32Array)[row] as number) : 0
            valW[2 * i] = x | 0
            valW[2 * i + 1] = x < 0 ? -1 : 0
          }
          break
        }
        case 2: {
          const code = this.stringCode(str as Data, start, b.n, i)
          valid[i] = code >= 0 ? 1 : 0
          valW[2 * i] = code
          valW[2 * i + 1] = 0
          break
        }
        default: {
          const d = bool as Data
          const k = d.offset + row
          valid[i] = validAt(d, k)
          valW[2 * i] = ((d.values as Uint8Array)[k >> 3] as number) & (1 << (k & 7)) ? 1 : 0
          valW[2 * i + 1] = 0
        }
      }
    }
  }

  /** String code of block row `i` (-1: null). */
  private stringCode(d: Data, start: number, n: number, i: number): number {
    if (DataType.isDictionary(d.type)) {
      // The whole block at once: the dictionary is mapped once, then one lookup per row.
      if (this.strStart !== start) {
        this.strings.codes(d, start, n, this.strCodes, true)
        this.strStart = start
      }
      return this.strCodes[i] as number
    }
    const row = start + i
    if (validAt(d, d.offset + row) === 0) return -1
    const offs = d.valueOffsets as Int32Array | BigInt64Array
    return this.strings.intern(d.values as Uint8Array, Number(offs[row]), Number(offs[row + 1]))
  }
}
