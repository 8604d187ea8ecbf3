import { describe, expect, it } from 'vitest'
import { progressBar } from '../src/progress.js'

function collect(progress: boolean, columns?: number) {
  const err: string[] = []
  const io = {
    stdout: () => {},
    stderr: (t: string) => err.push(t),
    progress,
    ...(columns === undefined ? {} : { columns }),
  }
  return { io, err }
}

describe('progressBar', () => {
  it('draws on one line, redrawn with \\r, and clears it on stop', () => {
    const { io, err } = collect(true, 60)
    const bar = progressBar(io, 'join')
    bar.update(1, 4, 'a')
    bar.update(4, 4, 'b')
    bar.stop()
    expect(err[0]).toMatch(/^\rjoin \[#{8}-{22}\] {2}25% a\s+$/)
    expect(err[1]).toMatch(/^\rjoin \[#{30}\] 100% b\s+$/)
    for (const line of err.slice(0, 2)) expect(line.length).toBe(60) // '\r' + 59 columns
    expect(err.at(-1)).toBe(`\r${' '.repeat(59)}\r`)
  })

  it('falls back to 80 columns when the terminal reports none (a pseudo-terminal under `script` reports 0)', () => {
    const { io, err } = collect(true, 0)
    const bar = progressBar(io, 'compact')
    bar.update(1, 2)
    bar.stop()
    expect(err[0]).toHaveLength(80)
  })

  it('draws nothing when stderr is not a terminal', () => {
    const { io, err } = collect(false)
    const bar = progressBar(io, 'compact')
    bar.update(1, 2)
    bar.stop()
    expect(err).toEqual([])
  })
})
