import type { CliIo } from './types.js'

/** A progress bar on stderr, drawn only when stderr is a terminal and redrawn at most every 100 ms. */
export interface ProgressBar {
  /** Where the work is: `done` of `total` units, and what is being worked on. */
  update(done: number, total: number, label?: string): void
  /** Clear the bar (call before printing the result). */
  stop(): void
}

const WIDTH = 30

/** A bar titled `title`; silent when `io.progress` is false (a pipe, a file, CI logs). */
export function progressBar(io: CliIo, title: string): ProgressBar {
  if (!io.progress) return { update() {}, stop() {} }
  // A pseudo-terminal may report 0 columns (`script`, some CI runners): fall back to 80.
  const columns = io.columns !== undefined && io.columns >= 20 ? io.columns : 80
  let last = 0
  let drawn = false
  return {
    update(done, total, label = '') {
      const now = Date.now()
      if (drawn && now - last < 100 && done < total) return
      last = now
      const frac = total > 0 ? Math.min(1, done / total) : 0
      const fill = Math.round(frac * WIDTH)
      const line = `${title} [${'#'.repeat(fill)}${'-'.repeat(WIDTH - fill)}] ${String(Math.floor(frac * 100)).padStart(3)}% ${label}`
      io.stderr(`\r${line.slice(0, columns - 1).padEnd(columns - 1)}`)
      drawn = true
    },
    stop() {
      if (drawn) io.stderr(`\r${' '.repeat(columns - 1)}\r`)
      drawn = false
    },
  }
}
