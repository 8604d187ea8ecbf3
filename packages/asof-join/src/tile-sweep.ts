/**
 * The final sweep of the tile join (tile-join.ts): per entity, its labels in time order, carrying
 * forward the live tiles (sorted by tileStart) staged at each slot. Tiles that fall before the
 * window are folded into the decay instant, then the window's tiles are summed in ascending
 * tileStart order — the reader's order, so double sums are bit-identical.
 */
import { tileStart as tileStartOf } from '@skewless/core'
import { setInt64 } from '@skewless/core/internal'
import type { LabelIndex } from './label-index.js'
import type { FeatureColumn } from './output.js'
import type { ResolvedFeature } from './resolve-features.js'
import { NONE, type TileEntries } from './tile-entries.js'

/**
 * Write each label's value of every tile feature into `out`. `head`, `decay` and `eligible` are
 * TileJoin's per (feature, slot) arrays: first staged entry, decay instant, some record eligible.
 */
export function sweepTiles(
  index: LabelIndex,
  features: readonly ResolvedFeature[],
  head: Int32Array,
  decay: Float64Array,
  eligible: Uint8Array,
  E: TileEntries,
  out: readonly FeatureColumn[],
): void {
  const { entStart, perm, times: T } = index
  const numEntities = entStart.length - 1
  // The live tiles of the current entity, sorted by tileStart: each an index of a staged entry.
  const live: number[] = []
  for (let f = 0; f < features.length; f++) {
    const feat = features[f] as ResolvedFeature
    const { sizeMs, hopMs } = feat.window as { sizeMs: number; hopMs: number }
    const col = out[f] as FeatureColumn
    const base = f * index.length
    for (let c = 0; c < numEntities; c++) {
      live.length = 0
      let first = 0
      let any = false
      let decayedAt = Number.NEGATIVE_INFINITY
      for (let j = entStart[c] as number, end = entStart[c + 1] as number; j < end; j++) {
        const s = base + j
        if (eligible[s] === 1) any = true
        if ((decay[s] as number) > decayedAt) decayedAt = decay[s] as number
        for (let k = head[s] as number; k !== NONE; k = E.next[k] as number) E.merge(live, first, k)
        if (!any) continue
        const t = T[j] as number
        const windowEnd = tileStartOf(t, hopMs) + hopMs
        const windowStart = windowEnd - sizeMs
        // Tiles before the window stay before it at every later label: fold them into the decay.
        while (first < live.length && (E.tile[live[first] as number] as number) < windowStart) {
          const x = (E.tile[live[first] as number] as number) + sizeMs
          if (x > decayedAt) decayedAt = x
          first++
        }
        let sum = 0
        let inWindow = 0
        let eventTime = Number.NEGATIVE_INFINITY
        for (let q = first; q < live.length; q++) {
          const k = live[q] as number
          if ((E.tile[k] as number) >= windowEnd) break
          inWindow++
          if (E.valid[k] === 1) sum += E.val[k] as number
          if ((E.et[k] as number) > eventTime) eventTime = E.et[k] as number
        }
        if (inWindow === 0) {
          // Decayed; or only tiles after the window (eventTimes before their tile): nothing yet.
          eventTime = decayedAt === Number.NEGATIVE_INFINITY ? t : decayedAt
          sum = 0
        }
        const age = t - eventTime
        if (age > feat.maxAgeMs) continue
        const row = perm[j] as number
        col.valid[row] = 1
        if (col.extra) {
          col.found[row] = 1
          col.eventTime[row] = eventTime
          col.age[row] = age
        }
        if (feat.kind === 0) col.num[row] = sum
        else setInt64(col.words, row, sum)
      }
    }
  }
}
