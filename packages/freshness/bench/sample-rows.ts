import type { Row } from './candidates.ts'

/** The chart a report of 3 features gives: 2 series × 240 samples per feature over 4 h. */
export function sampleRows(): Row[] {
  const rows: Row[] = []
  const t0 = Date.UTC(2026, 10, 2, 9)
  for (const feature of ['clicks_5m', 'spend_1h', 'last_page_10m']) {
    for (let i = 0; i < 240; i++) {
      const t = t0 + i * 60_000
      rows.push({ t, feature, series: 'streaming', ageMin: 0.4 + ((i * 7) % 5) * 0.05 })
      rows.push({ t, feature, series: 'batch', ageMin: i % 60 })
    }
  }
  return rows
}
