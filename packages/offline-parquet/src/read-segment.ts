import { readFile } from 'node:fs/promises'
import { LOG_COLUMNS, utf8Data } from '@skewless/offline-log/adapter'
import {
  type Data,
  DataType,
  Dictionary,
  Field,
  Int32,
  makeData,
  makeVector,
  RecordBatch,
  Schema,
  Struct,
  type Timestamp,
  TimestampMillisecond,
  TimeUnit,
  tableFromIPC,
  Utf8,
} from 'apache-arrow'
import * as pw from 'parquet-wasm'
import { CorruptFileError } from './errors.js'

const REQUIRED: [string, (t: DataType) => boolean][] = [
  ['entity', (t) => DataType.isUtf8(t) || (DataType.isDictionary(t) && DataType.isUtf8(t.dictionary))],
  ['value_double', (t) => DataType.isFloat(t)],
  ['value_int64', (t) => DataType.isInt(t) && t.bitWidth === 64],
  ['value_string', (t) => DataType.isUtf8(t) || (DataType.isDictionary(t) && DataType.isUtf8(t.dictionary))],
  ['value_bool', (t) => DataType.isBool(t)],
  ['event_time', isMillis],
  ['available_time', isMillis],
  ['version', (t) => DataType.isInt(t) && t.bitWidth === 64],
  ['outcome', (t) => DataType.isUtf8(t) || (DataType.isDictionary(t) && DataType.isUtf8(t.dictionary))],
]

function isMillis(t: DataType): boolean {
  return DataType.isTimestamp(t) && (t as Timestamp).unit === TimeUnit.MILLISECOND
}

/** Timestamp(ms, tz) → Timestamp(ms): files from other writers may carry a zone; values are the same. */
function asMillis(d: Data): Data {
  if ((d.type as Timestamp).timezone == null) return d
  return makeData({
    type: new TimestampMillisecond(),
    length: d.length,
    nullCount: d.nullCount,
    nullBitmap: d.nullBitmap,
    data: d.values as BigInt64Array,
  })
}

/**
 * The `feature` column, restored from the partition directory. Its dictionary id must differ from
 * the ids the IPC reader gave the file's own dictionary columns, or Arrow refuses the schema.
 */
function featureColumn(feature: string, n: number, fields: readonly Field[]): Data {
  let id = 0
  for (const f of fields) if (DataType.isDictionary(f.type)) id = Math.max(id, f.type.id + 1)
  const type = new Dictionary(new Utf8(), new Int32(), id)
  return makeData({ type, length: n, data: new Int32Array(n), dictionary: makeVector(utf8Data([feature])) })
}

const MAGIC = [0x50, 0x41, 0x52, 0x31] // "PAR1"

function hasMagic(b: Uint8Array, at: number): boolean {
  for (let i = 0; i < 4; i++) if (b[at + i] !== MAGIC[i]) return false
  return true
}

/**
 * Read one segment file into log-layout record batches (with the `feature` column restored from the
 * partition directory). Anything that is not a complete Parquet file with the log's columns and
 * types → `CorruptFileError` naming the file.
 */
export async function readSegment(path: string, feature: string): Promise<RecordBatch[]> {
  return decodeSegment(path, await readFile(path), feature)
}

/** `readSegment` on bytes already read (so the next file can be read while this one decodes). */
export function decodeSegment(path: string, bytes: Uint8Array, feature: string): RecordBatch[] {
  if (bytes.length < 12 || !hasMagic(bytes, 0) || !hasMagic(bytes, bytes.length - 4)) {
    throw new CorruptFileError(
      path,
      `not a complete Parquet file (${bytes.length} bytes, missing PAR1 magic)`,
    )
  }
  let ipc: Uint8Array
  try {
    ipc = pw.readParquet(bytes, { batchSize: 1 << 30 }).intoIPCStream()
  } catch (e) {
    throw new CorruptFileError(path, `Parquet decoding failed (${String((e as Error)?.message ?? e)})`, {
      cause: e,
    })
  }
  return ipcToSegmentBatches(path, ipc, feature)
}

/** The second half of decoding, on the main thread: Arrow IPC (from parquet-wasm) → checked log batches. */
export function ipcToSegmentBatches(path: string, ipc: Uint8Array, feature: string): RecordBatch[] {
  const table = tableFromIPC(ipc)
  const fields = table.schema.fields
  const index = new Map(fields.map((f, i) => [f.name, i]))
  for (const [name, ok] of REQUIRED) {
    const i = index.get(name)
    if (i === undefined) throw new CorruptFileError(path, `not a Skewless log file: no column "${name}"`)
    if (!ok((fields[i] as Field).type)) {
      throw new CorruptFileError(
        path,
        `column "${name}" has type ${String((fields[i] as Field).type)}, not the log layout's`,
      )
    }
  }
  const tileIdx = index.get('tile_start')
  if (tileIdx !== undefined && !isMillis((fields[tileIdx] as Field).type)) {
    throw new CorruptFileError(
      path,
      `column "tile_start" has type ${String((fields[tileIdx] as Field).type)}`,
    )
  }
  const out: RecordBatch[] = []
  for (const b of table.batches) {
    const n = b.numRows
    if (n === 0) continue
    const col = (name: string) => b.data.children[index.get(name) as number] as Data
    const tile =
      tileIdx !== undefined
        ? asMillis(col('tile_start'))
        : makeData({
            type: new TimestampMillisecond(),
            length: n,
            nullCount: n,
            nullBitmap: new Uint8Array((n + 7) >> 3),
            data: new BigInt64Array(n),
          })
    const children = [
      col('entity'),
      featureColumn(feature, n, fields),
      col('value_double'),
      col('value_int64'),
      col('value_string'),
      col('value_bool'),
      asMillis(col('event_time')),
      asMillis(col('available_time')),
      col('version'),
      col('outcome'),
      tile,
    ]
    const outFields = children.map((d, i) => {
      const name = LOG_COLUMNS[i] as string
      const src = index.get(name)
      const nullable = src === undefined ? true : (fields[src] as Field).nullable
      return new Field(name, d.type, nullable)
    })
    out.push(
      new RecordBatch(new Schema(outFields), makeData({ type: new Struct(outFields), length: n, children })),
    )
  }
  return out
}
