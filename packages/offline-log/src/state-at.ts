import type { FeatureWrite } from '@skewless/core'
import { compareRecord } from '@skewless/core/adapter'
import type { Data, RecordBatch } from 'apache-arrow'
import {
  columnData,
  hasColumn,
  readStringColumn,
  readTimeColumn,
  recordBatchToWrites,
  stringAt,
  valid,
} from './arrow-read.js'
import { takeRows } from './arrow-take.js'
import type { TimeBasis } from './types.js'

interface Best {
  batch: number
  row: number
  ev: number
  ver: number
  av: number
}

/**
 * Time travel over scanned log batches: for every (feature, entity) the record that held at `t`;
 * for an additive feature's tile records, for every (feature, entity, tileStart), since the store
 * holds each tile separately (sum those of the window at `t` for the value, or use the as-of join).
 *
 * - `by: 'available'`: among records with availableTime <= t, the greatest eventTime, ties broken
 *   by version — what the online store would have served at `t`. A write logged twice (same
 *   identity: eventTime, version and tile) counts once, with its earliest availableTime (core's `compareRecord`).
 * - `by: 'event'`: among records with eventTime <= t, the same order (availableTime is ignored for
 *   filtering).
 *
 * Records with outcome `stale` never count: compare-and-set rejected them, so the online store
 * never held them. Callers pass batches already filtered to the requested features and entities;
 * stale rows and rows after `t` are skipped here as well, so any scan is a valid input.
 * The result is sorted by (feature, entity, tileStart), records without a tile first.
 *
 * Memory stays proportional to the result, not to the log: scanned batches are kept only for
 * their winning rows, and when the kept rows outgrow twice the result (plus some slack), the
 * winners are copied out into compact batches and the scanned ones released.
 */
export async function stateAtFromBatches(
  batches: AsyncIterable<RecordBatch> | Iterable<RecordBatch>,
  t: number,
  by: TimeBasis,
  /** @internal Rows kept beyond twice the result before a compaction (tests lower it). */
  compactSlack = COMPACT_SLACK_ROWS,
): Promise<FeatureWrite[]> {
  let kept: RecordBatch[] = []
  let keptRows = 0
  const best = new Map<string, Best>()
  for await (const batch of batches) {
    const n = batch.numRows
    if (n === 0) continue
    if (keptRows > 2 * best.size + compactSlack) {
      kept = compact(kept, best)
      keptRows = best.size
    }
    const b = kept.length
    kept.push(batch)
    keptRows += n
    const entity = readStringColumn(columnData(batch, 'entity'))
    const feature = readStringColumn(columnData(batch, 'feature'))
    const outcome = readStringColumn(columnData(batch, 'outcome'))
    const ev = readTimeColumn(columnData(batch, 'event_time'))
    const av = readTimeColumn(columnData(batch, 'available_time'))
    const ver = readTimeColumn(columnData(batch, 'version') as Data)
    const tile = hasColumn(batch, 'tile_start') ? columnData(batch, 'tile_start') : undefined
    const tileStart = tile === undefined || tile.nullCount === n ? undefined : readTimeColumn(tile)
    const basis = by === 'event' ? ev : av
    for (let i = 0; i < n; i++) {
      if ((basis[i] as number) > t || stringAt(outcome, i) === 'stale') continue
      let key = `${stringAt(feature, i)}\u0000${stringAt(entity, i)}`
      if (tileStart !== undefined && valid(tile as Data, i)) key += `\u0000${tileStart[i]}`
      const e = ev[i] as number
      const v = ver[i] as number
      const a = av[i] as number
      const cur = best.get(key)
      if (cur === undefined) best.set(key, { batch: b, row: i, ev: e, ver: v, av: a })
      else if (compareRecord(e, v, a, cur.ev, cur.ver, cur.av) > 0) {
        cur.batch = b
        cur.row = i
        cur.ev = e
        cur.ver = v
        cur.av = a
      }
    }
  }
  const rowsByBatch: number[][] = kept.map(() => [])
  for (const v of best.values()) (rowsByBatch[v.batch] as number[]).push(v.row)
  const out: FeatureWrite[] = []
  for (let b = 0; b < kept.length; b++) {
    const rows = rowsByBatch[b] as number[]
    if (rows.length === 0) continue
    for (const w of recordBatchToWrites(takeRows(kept[b] as RecordBatch, rows))) out.push(w)
  }
  out.sort(
    (x, y) =>
      (x.feature < y.feature ? -1 : x.feature > y.feature ? 1 : 0) ||
      (x.entity < y.entity ? -1 : x.entity > y.entity ? 1 : 0) ||
      tileOrder(x.tileStart, y.tileStart),
  )
  return out
}

/** Kept rows beyond twice the current result that trigger a compaction: amortized O(1) per row. */
const COMPACT_SLACK_ROWS = 1 << 16

/**
 * Copy the rows that are some key's current best into one new batch per kept batch, point the
 * bests at them, and drop everything else. Scan order among the kept batches is preserved, so
 * later ties still lose to earlier records.
 */
function compact(kept: readonly RecordBatch[], best: Map<string, Best>): RecordBatch[] {
  const byBatch: Best[][] = kept.map(() => [])
  for (const v of best.values()) (byBatch[v.batch] as Best[]).push(v)
  const next: RecordBatch[] = []
  for (let b = 0; b < kept.length; b++) {
    const winners = byBatch[b] as Best[]
    if (winners.length === 0) continue
    const nb = next.length
    next.push(
      takeRows(
        kept[b] as RecordBatch,
        winners.map((w) => w.row),
      ),
    )
    for (let i = 0; i < winners.length; i++) {
      const w = winners[i] as Best
      w.batch = nb
      w.row = i
    }
  }
  return next
}

/** Records without a tile first, then by tileStart. */
function tileOrder(a: number | undefined, b: number | undefined): number {
  if (a === b) return 0
  if (a === undefined) return -1
  if (b === undefined) return 1
  return a < b ? -1 : 1
}
