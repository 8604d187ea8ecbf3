/** The feature definitions the loader writes with and the server serves: one definition for both. */
import { count, defineFeatures, hopping, last, sum, unbounded } from '@skewless/core'

/** One page view (or purchase) of a shop's user. */
export interface PageView {
  user: string
  ts: number
  page: string
  purchase: boolean
}

export const features = defineFeatures({
  entity: (e: PageView) => e.user,
  eventTime: (e) => e.ts,
  features: {
    views_1h: {
      window: hopping('1h', '5m'),
      aggregate: count(),
      emit: 'tiles', // Redis keeps 5-minute tiles; the reader sums the hour at read time
      description: "the user's page views in the last hour",
    },
    last_page: {
      window: unbounded(),
      aggregate: last('string'),
      value: (e) => e.page,
      ttl: '1d', // the reader serves null past it; the audit applies the same limit
      description: 'the page of the latest view (missing after a day)',
    },
    purchases_total: {
      window: unbounded(),
      aggregate: sum('int64'),
      value: (e) => (e.purchase ? 1 : 0),
      description: 'purchases since the first view',
    },
  },
})

/** mulberry32: deterministic floats in [0, 1). */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** `n` page views of `users` users over the two hours before `end`, sorted by time, from a seed. */
export function generateViews(end: number, n = 3000, users = 100, seed = 11): PageView[] {
  const rand = rng(seed)
  const pages = ['home', 'search', 'product', 'cart', 'checkout']
  const views: PageView[] = []
  for (let i = 0; i < n; i++) {
    views.push({
      user: `user-${String(Math.floor(rand() ** 2 * users)).padStart(3, '0')}`,
      ts: Math.floor(end - rand() * 2 * 3_600_000),
      page: pages[Math.floor(rand() * pages.length)] as string,
      purchase: rand() < 0.05,
    })
  }
  views.sort((a, b) => a.ts - b.ts)
  // Distinct timestamps, so "the latest view" is never a tie.
  for (let i = 1; i < views.length; i++) {
    const prev = views[i - 1] as PageView
    const cur = views[i] as PageView
    if (cur.ts <= prev.ts) cur.ts = prev.ts + 1
  }
  return views
}
