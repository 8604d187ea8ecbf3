/**
 * The events and features of `pnpm bench e2e`: clicks of `entities` users with bounded disorder,
 * partitioned by user into a JetStream stream (`<stream>.<partition>.<user>`), and the same two
 * features as `pnpm bench checkpoint` (a 5-minute hopping count, a 1-hour hopping sum as tiles).
 */
import { count, defineFeatures, hopping, sum } from '@skewless/core'

/** One published event. */
export interface BenchEvent {
  user: string
  ts: number
  amount: number
}

export const benchFeatures = defineFeatures<BenchEvent>({
  entity: (e) => e.user,
  eventTime: (e) => e.ts,
  features: {
    clicks_5m: { window: hopping('5m', '1m'), aggregate: count() },
    amount_1h: { window: hopping('1h', '10m'), aggregate: sum(), value: (e) => e.amount, emit: 'tiles' },
  },
})

/** FNV-1a of the user, mod `partitions`: every event of a user lands in one partition. */
export function partitionOf(user: string, partitions: number): number {
  let h = 0x811c9dc5
  for (let i = 0; i < user.length; i++) {
    h ^= user.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h % partitions
}

function mix(i: number): number {
  let x = (i + 0x9e3779b9) >>> 0
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0
  return (x ^ (x >>> 16)) >>> 0
}

/**
 * Event `i` of a backlog starting at `t0`, one event per `stepMs` on average, each up to
 * `disorderMs` earlier than its slot (bounded disorder).
 */
export function backlogEvent(
  i: number,
  t0: number,
  entities: number,
  stepMs: number,
  disorderMs: number,
): BenchEvent {
  const h = mix(i)
  return {
    user: `u${h % entities}`,
    ts: t0 + Math.floor(i * stepMs) - (mix(i + 0x5bd1e995) % (disorderMs + 1)),
    amount: (h >>> 12) % 10_000,
  }
}
