import { afterEach, describe, expect, it, vi } from 'vitest'
import { rateLimitedLogger } from '../src/adapter.js'
import {
  collectingSink,
  count,
  createPipeline,
  defineFeatures,
  type Logger,
  manualClock,
  tumbling,
} from '../src/index.js'

interface Ev {
  k: string
  t: number
}

const NOW = Date.UTC(2026, 11, 7, 12)
const DAY = 86_400_000
const group = defineFeatures<Ev>({
  entity: (e) => e.k,
  eventTime: (e) => e.t,
  features: { n: { window: tumbling('1m'), aggregate: count() } },
})

/** A logger that keeps every call. */
function recordingLogger() {
  const calls: { level: string; obj: Record<string, unknown>; msg: string | undefined }[] = []
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      calls.push({ level, obj: obj as Record<string, unknown>, msg })
    }
  const logger: Logger = { warn: at('warn'), info: at('info'), error: at('error') }
  return { logger, calls, warns: () => calls.filter((c) => c.level === 'warn') }
}

const events = (n: number, from: number): Ev[] =>
  Array.from({ length: n }, (_, i) => ({ k: `u${i % 7}`, t: from + i * 10 }))

describe('history on the live path', () => {
  afterEach(() => vi.restoreAllMocks())

  it('a live run over week-old events warns once, with the count, and names backfill()', async () => {
    const rec = recordingLogger()
    const p = createPipeline({
      source: events(5000, NOW - 7 * DAY),
      features: group,
      sink: collectingSink(),
      clock: manualClock(NOW),
      logger: rec.logger,
    })
    const r = await p.run()
    // Two batches of history (4096 + 904): one warning, with the first batch's count.
    expect(r.metrics.batches).toBe(2)
    expect(rec.warns()).toHaveLength(1)
    const w = rec.warns()[0] as (typeof rec.calls)[number]
    expect(w.obj.historicEvents).toBe(4096)
    expect(w.obj.oldestEventTime).toBe(new Date(NOW - 7 * DAY).toISOString())
    expect(w.msg).toContain('backfill()')
    expect(r.metrics.historicEvents).toBe(5000)
    // The run's summary carries the total.
    expect(rec.calls.filter((c) => c.level === 'info').map((c) => c.obj.historicEvents)).toEqual([5000])
  })

  it('a run over fresh events does not warn', async () => {
    const rec = recordingLogger()
    const r = await createPipeline({
      source: events(5000, NOW - 60_000),
      features: group,
      sink: collectingSink(),
      clock: manualClock(NOW),
      logger: rec.logger,
    }).run()
    expect(rec.calls).toEqual([])
    expect(r.metrics.historicEvents).toBe(0)
  })

  it('historyWarningAge sets what is history; Infinity turns the check off', async () => {
    const run = async (historyWarningAge: string | number) => {
      const rec = recordingLogger()
      const r = await createPipeline({
        source: events(10, NOW - 2 * 3_600_000),
        features: group,
        sink: collectingSink(),
        clock: manualClock(NOW),
        logger: rec.logger,
        historyWarningAge,
      }).run()
      return { warns: rec.warns().length, historic: r.metrics.historicEvents }
    }
    expect(await run('1h')).toEqual({ warns: 1, historic: 10 })
    expect(await run('1d')).toEqual({ warns: 0, historic: 0 })
    expect(await run(Number.POSITIVE_INFINITY)).toEqual({ warns: 0, historic: 0 })
  })

  it('by default warns on stderr (console.warn); logger: false silences it but still counts', async () => {
    const spy = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const old = () => ({
      source: events(3, NOW - 7 * DAY),
      features: group,
      sink: collectingSink(),
      clock: manualClock(NOW),
    })
    const silent = await createPipeline({ ...old(), logger: false }).run()
    expect(spy).not.toHaveBeenCalled()
    expect(silent.metrics.historicEvents).toBe(3)
    await createPipeline(old()).run()
    expect(spy).toHaveBeenCalledTimes(1)
    expect(String(spy.mock.calls[0]?.[0])).toMatch(/warn: 3 event\(s\).*backfill\(\).*"historicEvents":3/)
  })
})

describe('rateLimitedLogger', () => {
  it('writes a message at most once per interval, then says how many were held back', () => {
    const lines: string[] = []
    let now = 0
    const log = rateLimitedLogger({ intervalMs: 1000, write: (l) => lines.push(l), now: () => now })
    log.warn({ a: 1 }, 'disk slow')
    log.warn({ a: 2 }, 'disk slow')
    log.warn({ a: 3 }, 'disk slow')
    log.error({ b: 1 }, 'store lost')
    log.info({ c: 1 }, 'dropped by default')
    now = 1000
    log.warn({ a: 4 }, 'disk slow')
    expect(lines).toEqual([
      '[skewless] warn: disk slow {"a":1}',
      '[skewless] error: store lost {"b":1}',
      '[skewless] warn: disk slow {"a":4,"repeated":2}',
    ])
  })
})
