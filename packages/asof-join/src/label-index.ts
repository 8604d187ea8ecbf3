/**
 * Labels of one partition sorted by (entity code, time): a counting sort on the dense entity code,
 * then a per-entity sort on time (insertion sort for the usual handful of labels per entity).
 */

export interface LabelIndex {
  /** Number of labels in the index. */
  length: number
  /** Labels of entity c are at sorted positions [entStart[c], entStart[c+1]). */
  entStart: Int32Array
  /** Sorted position → label row. */
  perm: Int32Array
  /** Sorted position → label time. */
  times: Float64Array
}

/**
 * @param codes entity code per label row (-1: null key, left out)
 * @param inPartition when given, only rows whose entity has `inPartition[code] === 1` are indexed
 */
export function buildLabelIndex(
  codes: Int32Array,
  times: Float64Array,
  numEntities: number,
  inPartition?: Uint8Array,
): LabelIndex {
  const entStart = new Int32Array(numEntities + 1)
  let length = 0
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i] as number
    if (c < 0 || (inPartition && inPartition[c] === 0)) continue
    entStart[c + 1] = (entStart[c + 1] as number) + 1
    length++
  }
  for (let c = 0; c < numEntities; c++)
    entStart[c + 1] = (entStart[c + 1] as number) + (entStart[c] as number)
  const fill = entStart.slice(0, numEntities)
  const perm = new Int32Array(length)
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i] as number
    if (c < 0 || (inPartition && inPartition[c] === 0)) continue
    const at = fill[c] as number
    perm[at] = i
    fill[c] = at + 1
  }
  const sorted = new Float64Array(length)
  for (let j = 0; j < length; j++) sorted[j] = times[perm[j] as number] as number
  for (let c = 0; c < numEntities; c++) {
    const lo = entStart[c] as number
    const hi = entStart[c + 1] as number
    if (hi - lo < 2) continue
    if (hi - lo <= 64) {
      // Stable insertion sort: equal times keep input order.
      for (let j = lo + 1; j < hi; j++) {
        const t = sorted[j] as number
        const p = perm[j] as number
        let k = j - 1
        while (k >= lo && (sorted[k] as number) > t) {
          sorted[k + 1] = sorted[k] as number
          perm[k + 1] = perm[k] as number
          k--
        }
        sorted[k + 1] = t
        perm[k + 1] = p
      }
    } else {
      const rows = Array.from(perm.subarray(lo, hi))
      rows.sort((a, b) => (times[a] as number) - (times[b] as number) || a - b)
      for (let j = 0; j < rows.length; j++) {
        perm[lo + j] = rows[j] as number
        sorted[lo + j] = times[rows[j] as number] as number
      }
    }
  }
  return { length, entStart, perm, times: sorted }
}
