import { type Data, DataType, type RecordBatch } from 'apache-arrow'
import { columnData, hasColumn, valid } from './arrow-read.js'
import { takeRows } from './arrow-take.js'

/** The 32-bit halves of an Int64/Timestamp column, without converting it. */
function halves(data: Data): Int32Array {
  const v = data.values as BigInt64Array
  return new Int32Array(v.buffer, v.byteOffset, v.length * 2)
}

/** Whether rows `i` and `j` of a Utf8 or Dictionary<Utf8> column hold the same string (no decoding). */
function sameString(data: Data, i: number, j: number): boolean {
  if (DataType.isDictionary(data.type)) return data.values[i] === data.values[j]
  const off = data.valueOffsets as Int32Array
  const bytes = data.values as Uint8Array
  const a = off[i] as number
  const b = off[j] as number
  const len = (off[i + 1] as number) - a
  if (len !== (off[j + 1] as number) - b) return false
  for (let k = 0; k < len; k++) if (bytes[a + k] !== bytes[b + k]) return false
  return true
}

/**
 * Drop the rows of a sorted batch (by entity, event_time, version, available_time; one feature, as a
 * Parquet segment or a memory-log run is) that repeat the identity (entity, feature, tile_start,
 * event_time, version) of an earlier row: a write logged twice counts once, and the copy kept is the
 * earliest (by availableTime). Rows of one identity are adjacent up to their tile, so this is one pass
 * comparing two int64 pairs per row; entities and tiles are compared only when those are equal.
 * Returns the batch itself when it holds no duplicate.
 */
export function dropDuplicateIdentities(batch: RecordBatch): RecordBatch {
  const n = batch.numRows
  if (n < 2) return batch
  const ev = halves(columnData(batch, 'event_time'))
  const ver = halves(columnData(batch, 'version'))
  let entity: Data | undefined
  let tile: Data | undefined
  let tileHalves: Int32Array | undefined
  let dropped: Uint8Array | undefined
  let runStart = 0
  for (let i = 1; i < n; i++) {
    const p = i - 1
    if (
      ev[2 * i] !== ev[2 * p] ||
      ev[2 * i + 1] !== ev[2 * p + 1] ||
      ver[2 * i] !== ver[2 * p] ||
      ver[2 * i + 1] !== ver[2 * p + 1]
    ) {
      runStart = i
      continue
    }
    entity ??= columnData(batch, 'entity')
    if (!sameString(entity, i, runStart)) {
      runStart = i
      continue
    }
    if (tile === undefined && hasColumn(batch, 'tile_start')) {
      tile = columnData(batch, 'tile_start')
      tileHalves = halves(tile)
    }
    for (let j = runStart; j < i; j++) {
      if (dropped?.[j] === 1) continue
      const sameTile =
        tile === undefined ||
        (valid(tile, i)
          ? valid(tile, j) &&
            tileHalves?.[2 * i] === tileHalves?.[2 * j] &&
            tileHalves?.[2 * i + 1] === tileHalves?.[2 * j + 1]
          : !valid(tile, j))
      if (sameTile) {
        dropped ??= new Uint8Array(n)
        dropped[i] = 1
        break
      }
    }
  }
  if (dropped === undefined) return batch
  const keep: number[] = []
  for (let i = 0; i < n; i++) if (dropped[i] === 0) keep.push(i)
  return takeRows(batch, keep)
}
