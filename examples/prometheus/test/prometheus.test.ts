import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freeLoopbackPort, type RedisServerHandle, startRedis } from '@skewless/adapter-tests'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type MetricsDemo, purchases, runMetricsDemo } from '../src/metrics-demo.js'

/** Prometheus text format → samples: name, labels, value (comments and blank lines skipped). */
function parse(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const out: { name: string; labels: Record<string, string>; value: number }[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line)
    if (m === null) throw new Error(`not a Prometheus sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] as string] = l[2] as string
    out.push({ name: m[1] as string, labels, value: Number(m[3]) })
  }
  return out
}

let redis: RedisServerHandle
let dir: string
let demo: MetricsDemo
let samples: ReturnType<typeof parse>
let body: string
const EVENTS = 3000
const BAD = 4

beforeAll(async () => {
  redis = await startRedis()
  dir = await mkdtemp(join(tmpdir(), 'skewless-prom-test-'))
  demo = await runMetricsDemo({
    redisUrl: redis.url,
    logDir: join(dir, 'feature-log'),
    port: await freeLoopbackPort(),
    events: purchases(EVENTS, 40, BAD),
  })
  const res = await fetch(demo.metricsUrl)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
  body = await res.text()
  samples = parse(body)
})
afterAll(async () => {
  await demo?.close()
  await redis?.stop()
  if (dir) await rm(dir, { recursive: true, force: true })
})

/** The sum of the samples named `name` whose labels include `where`; fails when there is none. */
function value(name: string, where: Record<string, string> = {}): number {
  const hit = samples.filter(
    (s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v),
  )
  if (hit.length === 0) throw new Error(`no sample ${name} ${JSON.stringify(where)} in the scrape:\n${body}`)
  return hit.reduce((n, s) => n + s.value, 0)
}

describe('Prometheus scrape over HTTP', () => {
  it('counts every event sent, the dead letters by reason, and the updates the sink received', () => {
    expect(value('skewless_pipeline_events_total')).toBe(EVENTS + BAD)
    expect(value('skewless_pipeline_dead_letters_total', { skewless_reason: 'invalid-time' })).toBe(BAD)
    expect(value('skewless_pipeline_updates_total')).toBe(demo.counts.pipeline.updatesOut)
    expect(value('skewless_sink_updates_total')).toBe(demo.counts.pipeline.updatesOut)
    // Every series carries the component's metricAttributes.
    expect(samples.find((s) => s.name === 'skewless_pipeline_events_total')?.labels.service_instance_id).toBe(
      'demo-1',
    )
  })

  it('writes applied in Redis equal the rows the Parquet log committed; store calls are timed in seconds', () => {
    const applied = value('skewless_sink_writes_total', { skewless_outcome: 'applied' })
    expect(applied).toBe(demo.counts.sink.applied)
    expect(applied).toBeGreaterThan(0)
    // Every update the sink took was applied, rejected as stale, or replaced by a newer one of its key.
    const stale = samples.some((x) => x.labels.skewless_outcome === 'stale')
      ? value('skewless_sink_writes_total', { skewless_outcome: 'stale' })
      : 0
    expect(applied + stale + value('skewless_sink_coalesced_total')).toBe(
      value('skewless_sink_updates_total'),
    )
    expect(value('skewless_log_rows_total', { skewless_log_kind: 'parquet' })).toBe(demo.counts.logRows)
    expect(demo.counts.logRows).toBe(applied)
    expect(value('skewless_log_commits_total')).toBe(demo.counts.logCommits)
    const calls = value('db_client_operation_duration_count', {
      db_system_name: 'redis',
      db_operation_name: 'apply',
    })
    expect(calls).toBeGreaterThan(0)
    const seconds = value('db_client_operation_duration_sum', {
      db_system_name: 'redis',
      db_operation_name: 'apply',
    })
    // Plausible: a batch against a loopback Redis takes well under a second on average.
    expect(seconds / calls).toBeGreaterThan(0)
    expect(seconds / calls).toBeLessThan(1)
  })

  it('freshness and commit durations are histograms with buckets; the reader counted what it served', () => {
    // This exporter keeps OpenTelemetry names (no unit suffix) and states the unit in a # UNIT line.
    expect(body).toContain('# UNIT skewless_sink_freshness s')
    const fresh = value('skewless_sink_freshness_count')
    expect(fresh).toBeGreaterThan(0)
    // The stream lies in the last hour: no batch's oldest value is more than ~1 h old when written.
    expect(value('skewless_sink_freshness_sum') / fresh).toBeLessThan(3700)
    const inf = value('skewless_sink_freshness_bucket', { le: '+Inf' })
    expect(inf).toBe(fresh)
    expect(value('skewless_log_commit_duration_count')).toBe(demo.counts.logCommits)
    expect(value('skewless_reader_entities_total')).toBe(5)
    expect(value('skewless_reader_values_total', { skewless_outcome: 'served' })).toBe(demo.counts.served * 2)
  })
})
