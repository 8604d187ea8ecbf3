/**
 * An independent reference for the as-of join of additive tile features, fast enough for a 1M-label
 * benchmark (the test oracle is O(labels × records)): per entity, records sorted by the instant they
 * become eligible and labels by time, one sweep that keeps the best record per tileStart, then per
 * label the window's tiles summed in ascending tileStart order (the online reader's order). Same
 * semantics as `TileJoin` (see the header of packages/asof-join/src/types.ts), written differently,
 * so a benchmark can check the library's answer row by row.
 */

export interface TileLog {
  /** Entity code per record (dense, < numEntities). */
  ent: Int32Array
  et: Float64Array
  at: Float64Array
  ver: Int32Array
  val: Float64Array
  tile: Float64Array
}

export interface TileAnswer {
  /** Per label row: the summed value, NaN when null. */
  value: Float64Array
  /** Per label row: the eventTime served (NaN when null). */
  eventTime: Float64Array
}

/** Records and labels grouped by entity: counting sort, then `order` within each group. */
function group(codes: Int32Array, numEntities: number, order: (a: number, b: number) => number) {
  const start = new Int32Array(numEntities + 1)
  for (const c of codes) if (c >= 0 && c < numEntities) start[c + 1] = (start[c + 1] as number) + 1
  for (let c = 0; c < numEntities; c++) start[c + 1] = (start[c + 1] as number) + (start[c] as number)
  const fill = start.slice(0, numEntities)
  const idx = new Int32Array(start[numEntities] as number)
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i] as number
    if (c < 0 || c >= numEntities) continue
    idx[fill[c] as number] = i
    fill[c] = (fill[c] as number) + 1
  }
  for (let c = 0; c < numEntities; c++) {
    const part = Array.from(idx.subarray(start[c], start[c + 1]))
    part.sort((a, b) => order(a, b) || a - b)
    idx.set(part, start[c] as number)
  }
  return { start, idx }
}

export function tileReference(
  log: TileLog,
  labelEnt: Int32Array,
  labelT: Float64Array,
  numEntities: number,
  window: { sizeMs: number; hopMs: number },
  byAvailable: boolean,
): TileAnswer {
  const { sizeMs, hopMs } = window
  const key = (i: number) => {
    const e = log.et[i] as number
    const a = log.at[i] as number
    return byAvailable && a > e ? a : e
  }
  const recs = group(log.ent, numEntities, (a, b) => key(a) - key(b))
  const labs = group(labelEnt, numEntities, (a, b) => (labelT[a] as number) - (labelT[b] as number))
  const value = new Float64Array(labelT.length).fill(Number.NaN)
  const eventTime = new Float64Array(labelT.length).fill(Number.NaN)
  // The entity's best record per tile, as parallel arrays sorted by tileStart.
  const tiles: number[] = []
  const best: number[] = []
  for (let c = 0; c < numEntities; c++) {
    tiles.length = 0
    best.length = 0
    let r = recs.start[c] as number
    const rEnd = recs.start[c + 1] as number
    for (let q = labs.start[c] as number; q < (labs.start[c + 1] as number); q++) {
      const row = labs.idx[q] as number
      const t = labelT[row] as number
      // Inclusive: a record is eligible at t when both its times are <= t.
      for (; r < rEnd && key(recs.idx[r] as number) <= t; r++) {
        const i = recs.idx[r] as number
        const s = log.tile[i] as number
        let p = 0
        while (p < tiles.length && (tiles[p] as number) < s) p++
        if (p < tiles.length && tiles[p] === s) {
          const o = best[p] as number
          const d =
            (log.et[i] as number) - (log.et[o] as number) ||
            (log.ver[i] as number) - (log.ver[o] as number) ||
            (log.at[i] as number) - (log.at[o] as number)
          if (d >= 0) best[p] = i
        } else {
          tiles.splice(p, 0, s)
          best.splice(p, 0, i)
        }
      }
      if (tiles.length === 0) continue
      const end = Math.floor(t / hopMs) * hopMs + hopMs
      const start = end - sizeMs
      let sum = 0
      let inWindow = 0
      let newest = Number.NEGATIVE_INFINITY
      let decayedAt = Number.NEGATIVE_INFINITY
      for (let p = 0; p < tiles.length; p++) {
        const s = tiles[p] as number
        const i = best[p] as number
        if (s < start) decayedAt = Math.max(decayedAt, s + sizeMs)
        else if (s < end) {
          inWindow++
          sum += log.val[i] as number
          newest = Math.max(newest, log.et[i] as number)
        }
      }
      value[row] = inWindow === 0 ? 0 : sum
      eventTime[row] = inWindow > 0 ? newest : decayedAt === Number.NEGATIVE_INFINITY ? t : decayedAt
    }
  }
  return { value, eventTime }
}
