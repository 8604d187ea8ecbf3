import type { FeatureWrite } from '@skewless/core'

/** Features of the interop and fault tests. */
export const FEATURES = { clicks: 'int64', spend: 'double', country: 'string', active: 'bool' } as const

const DAY = 86_400_000
const T0 = Date.UTC(2026, 10, 1)

/** A mixed, deterministic data set: several features, three UTC days, nulls, stale, tiles, unicode. */
export function mixedRecords(n = 600): FeatureWrite[] {
  const out: FeatureWrite[] = []
  const countries = ['DE', 'Åland', '日本', '😀', '']
  for (let i = 0; i < n; i++) {
    const f = (['clicks', 'spend', 'country', 'active'] as const)[i % 4] as keyof typeof FEATURES
    const eventTime = T0 + (i % 3) * DAY + i * 1000
    const value =
      i % 17 === 0
        ? null
        : f === 'clicks'
          ? i * 1_000_003
          : f === 'spend'
            ? i / 7
            : f === 'country'
              ? (countries[i % countries.length] as string)
              : i % 2 === 0
    const w: FeatureWrite = {
      entity: `user-${(i * 7919) % 50}`,
      feature: f,
      value,
      eventTime,
      version: i % 5,
      availableTime: eventTime + (i % 11),
      outcome: i % 13 === 0 ? 'stale' : 'applied',
    }
    if (f === 'clicks' && i % 3 === 0) w.tileStart = eventTime - (eventTime % 60_000)
    out.push(w)
  }
  return out
}
