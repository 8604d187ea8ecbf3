import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { DAY_MS, parseDay, parseSegmentName, type SegmentBounds } from './layout.js'

/** A committed file of the log, as found on disk. */
export interface SegmentFile {
  /** Absolute path. */
  path: string
  feature: string
  /** UTC day number of its `date=` directory. */
  day: number
  /** Bounds from its name; `undefined` for a `.parquet` file not named by this library. */
  bounds: SegmentBounds | undefined
}

async function dirEntries(path: string): Promise<string[]> {
  try {
    return await readdir(path)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw e
  }
}

/** Time window a scan asks for, on one basis. */
export interface TimeWindow {
  by: 'event' | 'available'
  from: number
  to: number
}

/**
 * The committed files of `feature` that can hold rows in `window`, in commit order. Pruning uses the
 * `date=` directory (event basis only) and the min/max times in each file name. Hidden and `_`
 * files (temporaries, journals) and non-`.parquet` files are never listed.
 */
export async function listSegments(
  root: string,
  feature: string,
  window: TimeWindow,
): Promise<SegmentFile[]> {
  const fdir = join(root, `feature=${feature}`)
  const out: SegmentFile[] = []
  const minDay = window.by === 'event' ? Math.floor(window.from / DAY_MS) : Number.NEGATIVE_INFINITY
  const maxDay = window.by === 'event' ? Math.floor((window.to - 1) / DAY_MS) : Number.POSITIVE_INFINITY
  for (const d of (await dirEntries(fdir)).sort()) {
    if (!d.startsWith('date=')) continue
    const day = parseDay(d.slice(5))
    if (!Number.isNaN(day) && (day < minDay || day > maxDay)) continue
    const ddir = join(fdir, d)
    for (const f of (await dirEntries(ddir)).sort()) {
      if (f.startsWith('_') || f.startsWith('.') || !f.endsWith('.parquet')) continue
      const bounds = parseSegmentName(f)
      if (bounds) {
        const lo = window.by === 'event' ? bounds.minEventTime : bounds.minAvailableTime
        const hi = window.by === 'event' ? bounds.maxEventTime : bounds.maxAvailableTime
        if (hi < window.from || lo >= window.to) continue
      }
      out.push({ path: join(ddir, f), feature, day, bounds })
    }
  }
  return out
}

/** Every partition directory under `root` (for recovery). */
export async function listPartitionDirs(root: string): Promise<string[]> {
  const out: string[] = []
  for (const f of await dirEntries(root)) {
    if (!f.startsWith('feature=')) continue
    for (const d of await dirEntries(join(root, f))) if (d.startsWith('date=')) out.push(join(root, f, d))
  }
  return out
}
