/** Output helpers shared by the commands: aligned text tables and readable numbers. */
import { formatDuration } from '@skewless/freshness'
import type { LogFeature } from './types.js'

/** An aligned text table: a header row, then rows; numbers right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [header, ...rows].map((r) => r.map((c) => String(c)))
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'))
  return `${cells
    .map((r) =>
      r
        .map((c, i) => (numeric[i] ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`
}

/** An instant as ISO-8601 UTC, or '-' when there is none. */
export function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : '-'
}

/** A byte count in B, KiB, MiB or GiB. */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`
}

/** A duration in ms, in the largest unit that keeps it readable. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '-'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`
  return `${(ms / 3_600_000).toFixed(1)} h`
}

/**
 * A feature's definition in words, when the manifest recorded it: `count, hopping 5m every 1m`,
 * `sum, tumbling 1h, tiles`, `last, session gap 30m`; '-' for a log that records only types.
 */
export function definition(f: LogFeature): string {
  const parts: string[] = []
  if (f.aggregate) parts.push(f.aggregate)
  if (f.window && typeof f.window === 'object') {
    const w = f.window as Record<string, unknown>
    const d = (k: string) => (typeof w[k] === 'number' ? formatDuration(w[k] as number) : undefined)
    let text = String(w.kind ?? 'window')
    if (d('sizeMs')) text += ` ${d('sizeMs')}`
    if (d('hopMs') && d('hopMs') !== d('sizeMs')) text += ` every ${d('hopMs')}`
    if (d('gapMs')) text += ` gap ${d('gapMs')}`
    parts.push(text)
  }
  if (f.emit === 'tiles') parts.push('tiles')
  return parts.length > 0 ? parts.join(', ') : '-'
}
