import type { Clock } from './types.js'

/** The wall clock (`Date.now()`). */
export const systemClock: Clock = { now: () => Date.now() }

/** A clock you move by hand, for tests on simulated time. */
export interface ManualClock extends Clock {
  /** Set the time (ms since epoch). */
  set(timeMs: number): void
  /** Move the time forward by `ms`. */
  advance(ms: number): void
}

/** Create a manual clock starting at `startMs`. @param startMs @default 0 */
export function manualClock(startMs = 0): ManualClock {
  let t = startMs
  return {
    now: () => t,
    set(timeMs) {
      t = timeMs
    },
    advance(ms) {
      t += ms
    },
  }
}
