/** Eviction of entities whose state can no longer change, so state stays bounded by activity. */
import { SessionState } from './feature-state.js'
import { F_CURSOR, type GroupState, H_MAX_T } from './group-state.js'

/**
 * Forget entities that no accepted event can change any more: every window they had is past,
 * and the next accepted event will be later than anything they emitted (so `(eventTime,
 * version)` still grows per pair when the entity comes back). `horizon` is the watermark minus
 * the allowed lateness: nothing older is accepted.
 */
export function evictIdleKeys<E>(groups: readonly GroupState<E>[], horizon: number): void {
  for (const g of groups) {
    if (!Number.isFinite(g.extentMs)) continue
    const slab = g.slab
    for (let k = 0; k < g.used; k++) {
      if (g.entities[k] === undefined) continue
      const b = k * g.stride
      if ((slab[b + H_MAX_T] as number) + g.extentMs >= horizon) continue
      let keep = false
      for (let j = 0; j < g.features.length && !keep; j++) {
        const o = g.off[j] as number
        if (o >= 0) keep = (slab[b + o + F_CURSOR] as number) >= horizon
      }
      const gen = g.generic[k]
      if (gen !== undefined) {
        for (const st of gen) {
          if (st.cursor >= horizon || (st instanceof SessionState && !Number.isNaN(st.timerAt))) keep = true
        }
      }
      if (!keep) g.evict(k)
    }
  }
}
