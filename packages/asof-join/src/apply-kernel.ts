/**
 * Applies staged records to their label slots. A pure function over typed arrays with no closure
 * and no import: its source text also runs in the apply worker (see apply-worker.ts), so the main
 * thread and the worker execute the same code.
 *
 * Staged record layout (6 doubles): [eventTime, version, availableTime, value (8 raw bytes: a
 * double, an int64's two words, a bool or a string code), (int32 pair: first slot, end slot),
 * (int32 pair: feature, valid)]. Values are copied as two 32-bit words, never through a double, so
 * an int64 whose bits read as a NaN stays exact.
 *
 * Every staged record of one call belongs to one slot range (a bucket), of any feature. When the
 * bucket is dense (`warmFirst < warmLast`), the range is read sequentially once first (label times
 * and every feature's slots), one load per cache line: the prefetcher streams it at memory
 * bandwidth, where the same lines fetched on demand in random order would each pay a full memory
 * latency. Returns that read's sum so it is not optimised away.
 */
export function applyStaged(
  T: Float64Array,
  state: Float64Array,
  stateI: Int32Array,
  hasVal: Uint8Array,
  stageF: Float64Array,
  stageI: Int32Array,
  from: number,
  to: number,
  L: number,
  inclusive: boolean,
  byAvailable: boolean,
  warmFirst: number,
  warmLast: number,
  F: number,
): number {
  let acc = 0
  if (warmFirst < warmLast) {
    for (let j = warmFirst; j < warmLast; j += 8) acc += T[j] as number
    for (let f = 0; f < F; f++) {
      const end = (f * L + warmLast) << 2
      for (let q = (f * L + warmFirst) << 2; q < end; q += 8) acc += state[q] as number
    }
  }
  for (let o = from; o < to; o += 6) {
    const w = (o + 4) << 1
    let lo = stageI[w] as number
    const end = stageI[w + 1] as number
    const e = stageF[o] as number
    const a = stageF[o + 2] as number
    const key = byAvailable && a > e ? a : e
    let hi = end
    if (end - lo <= 16) {
      // Few labels per entity (the usual case): a branch-free count beats a mispredicted search.
      let k = 0
      if (inclusive) for (let j = lo; j < end; j++) k += (T[j] as number) < key ? 1 : 0
      else for (let j = lo; j < end; j++) k += (T[j] as number) <= key ? 1 : 0
      lo += k
    } else if (inclusive) {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if ((T[mid] as number) < key) lo = mid + 1
        else hi = mid
      }
    } else {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if ((T[mid] as number) <= key) lo = mid + 1
        else hi = mid
      }
    }
    if (lo === end) continue
    const f = stageI[w + 2] as number
    const s = f * L + lo
    const q = s << 2
    const be = state[q] as number
    if (e < be) continue
    const v = stageF[o + 1] as number
    // core's compareRecord, inlined (this source imports nothing): greater eventTime, then greater
    // version, then the earlier availableTime (two copies of one write: the first readable).
    if (e === be) {
      const bv = state[q + 1] as number
      if (v < bv || (v === bv && a > (state[q + 2] as number))) continue
    }
    // Records arrive in scan order: on a full tie the later one wins.
    state[q] = e
    state[q + 1] = v
    state[q + 2] = a
    const vw = (o + 3) << 1
    const sw = (q + 3) << 1
    stateI[sw] = stageI[vw] as number
    stateI[sw + 1] = stageI[vw + 1] as number
    hasVal[s] = stageI[w + 3] as number
  }
  return acc
}
