/**
 * `pnpm bench core`: 10M events over 100k keys, count + sum over a 5-minute window with a 1-minute
 * hop, events up to 10 s out of order, through the library — and, in the same run, a hand-written
 * single-loop baseline that computes the same emitted values without the library (checked by a
 * checksum over every emitted update). A third row, the minimal loop, does only the work no
 * implementation can skip — look the key up, add to its row, build two update objects, let the sink
 * checksum them — with no windows, tiles, watermark or decay: it shows what this machine allows.
 *
 * Env: BENCH_EVENTS (default 10_000_000), BENCH_KEYS (default 100_000).
 */

import os from 'node:os'
import {
  count,
  createPipeline,
  defineFeatures,
  type FeatureUpdate,
  hopping,
  type Sink,
  sum,
} from '@skewless/core'
import { xorshift } from './lib/rng.ts'

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000)
const KEYS = Number(process.env.BENCH_KEYS ?? 100_000)
const BATCH = 4096
const OOO_MS = 10_000
const SIZE_MS = 5 * 60_000
const HOP_MS = 60_000
const EVENTS_PER_S = 10_000 // event-time rate: 10M events span ~17 minutes of event time
const T0 = Date.UTC(2026, 10, 1)

interface Ev {
  user: string
  ts: number
  amount: number
}

// Deterministic generator (xorshift) so both runs see the same stream.
const rand = xorshift(0x9e3779b9)

function generate(): Ev[][] {
  const names = Array.from({ length: KEYS }, (_, i) => `user-${i}`)
  const batches: Ev[][] = []
  let batch: Ev[] = []
  for (let i = 0; i < EVENTS; i++) {
    const ts = T0 + Math.floor((i * 1000) / EVENTS_PER_S) - Math.floor(rand() * OOO_MS)
    batch.push({ user: names[Math.floor(rand() * KEYS)] as string, ts, amount: Math.floor(rand() * 100) })
    if (batch.length === BATCH) {
      batches.push(batch)
      batch = []
    }
  }
  if (batch.length > 0) batches.push(batch)
  return batches
}

/** Order-independent checksum of emitted updates, so library and baseline can be compared. */
class Checksum {
  updates = 0
  acc = 0
  add(entityHash: number, featureId: number, value: number, eventTime: number, version: number) {
    this.updates++
    // Mix with multiplications mod 2^32: cheap and sensitive to every field.
    const h = Math.imul(entityHash ^ (featureId * 0x27d4eb2d), 0x165667b1) ^ Math.imul(value | 0, 0x9e3779b1)
    this.acc =
      (this.acc + (h ^ Math.imul((eventTime / 1000) | 0, 0x85ebca6b) ^ Math.imul(version, 0xc2b2ae35))) | 0
  }
  /** The checksum of a batch of the benchmark's two features (what the sinks of both runs do). */
  addUpdates(us: readonly FeatureUpdate[]) {
    for (let i = 0; i < us.length; i++) {
      const u = us[i] as FeatureUpdate
      this.add(
        strHash(u.entity),
        u.feature === 'clicks_5m' ? 1 : 2,
        u.value as number,
        u.eventTime,
        u.version,
      )
    }
  }
}

/** FNV-1a over the entity string (no cache: a Map lookup per update would dominate both runs). */
function strHash(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619)
  return h
}

async function runLibrary(batches: Ev[][]) {
  const sumCheck = new Checksum()
  const sink: Sink<FeatureUpdate> = {
    write(us) {
      sumCheck.addUpdates(us)
    },
    flush: async () => {},
    close: async () => {},
  }
  const features = defineFeatures<Ev>({
    entity: (e) => e.user,
    eventTime: (e) => e.ts,
    features: {
      clicks_5m: { window: hopping('5m', '1m'), aggregate: count() },
      amount_5m: { window: hopping('5m', '1m'), aggregate: sum(), value: (e) => e.amount },
    },
  })
  async function* source() {
    for (const b of batches) yield b
  }
  const p = createPipeline({ source: source(), features, sink, watermark: { outOfOrderness: OOO_MS } })
  const c0 = cpuMs()
  const t0 = performance.now()
  const r = await p.run()
  const ms = performance.now() - t0
  return { ms, cpu: cpuMs() - c0, check: sumCheck, metrics: r.metrics }
}

/**
 * The baseline: one hand-written loop over typed arrays with the same semantics (per-batch
 * emission at max(cursor, key max time), watermark-driven decay at tile expiries, change-only
 * decay emission), no library.
 */
function runBaseline(batches: Ev[][]) {
  const check = new Checksum()
  const N = SIZE_MS / HOP_MS
  const index = new Map<string, number>()
  let cap = 1024
  let names: string[] = []
  let tileIdx = new Float64Array(cap * N).fill(Number.NaN)
  let cnt = new Float64Array(cap * N)
  let amt = new Float64Array(cap * N)
  let keyMax = new Float64Array(cap).fill(Number.NEGATIVE_INFINITY)
  // per feature (0 = count, 1 = sum): cursor, version, last
  let cursor = new Float64Array(cap * 2).fill(Number.NEGATIVE_INFINITY)
  let version = new Float64Array(cap * 2)
  let lastVal = new Float64Array(cap * 2).fill(Number.NaN)
  let dirtyMark = new Int32Array(cap)
  let lastTimer = new Float64Array(cap).fill(Number.NaN)
  const timers = new Map<number, number[]>()
  const timerHeap: number[] = []
  const c0 = cpuMs()
  let n = 0
  let wm = Number.NEGATIVE_INFINITY
  let maxT = Number.NEGATIVE_INFINITY
  const grow = () => {
    const c2 = cap * 2
    const g = (a: Float64Array, per: number, fill: number) => {
      const b = new Float64Array(c2 * per).fill(fill)
      b.set(a)
      return b
    }
    tileIdx = g(tileIdx, N, Number.NaN)
    cnt = g(cnt, N, 0)
    amt = g(amt, N, 0)
    keyMax = g(keyMax, 1, Number.NEGATIVE_INFINITY)
    cursor = g(cursor, 2, Number.NEGATIVE_INFINITY)
    version = g(version, 2, 0)
    lastVal = g(lastVal, 2, Number.NaN)
    lastTimer = g(lastTimer, 1, Number.NaN)
    const d = new Int32Array(c2)
    d.set(dirtyMark)
    dirtyMark = d
    cap = c2
  }
  const valueAt = (k: number, which: number, t: number) => {
    const tile = Math.floor(t / HOP_MS)
    let s = 0
    const arr = which === 0 ? cnt : amt
    for (let j = 0; j < N; j++) {
      const ti = tileIdx[k * N + j] as number
      if (ti > tile - N && ti <= tile) s += arr[k * N + j] as number
    }
    return s
  }
  const emit = (k: number, which: number, value: number, tau: number) => {
    lastVal[k * 2 + which] = value
    cursor[k * 2 + which] = tau
    const v = (version[k * 2 + which] as number) + 1
    version[k * 2 + which] = v
    check.add(strHash(names[k] as string), which + 1, value, tau, v)
  }
  /** Decay: at every timer up to the watermark, emit the keys whose value changed. */
  const fireTimers = () => {
    while (timerHeap.length > 0 && (timerHeap[0] as number) <= wm) {
      const at = timerHeap.shift() as number
      const keys = (timers.get(at) as number[]).sort((a, b) => a - b)
      timers.delete(at)
      let prev = -1
      for (const k of keys) {
        if (k === prev) continue
        prev = k
        for (let which = 0; which < 2; which++) {
          if ((cursor[k * 2 + which] as number) >= at) continue
          const value = valueAt(k, which, at)
          if (value !== lastVal[k * 2 + which]) emit(k, which, value, at)
        }
      }
    }
  }
  const t0 = performance.now()
  let batchNo = 0
  for (const batch of batches) {
    batchNo++
    const dirty: number[] = []
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i] as Ev
      const t = e.ts
      let k = index.get(e.user)
      if (k === undefined) {
        if (n === cap) grow()
        k = n++
        index.set(e.user, k)
        names.push(e.user)
      }
      if (t > (keyMax[k] as number)) keyMax[k] = t
      if (t > maxT) maxT = t
      if (dirtyMark[k] !== batchNo) {
        dirtyMark[k] = batchNo
        dirty.push(k)
      }
      const tile = Math.floor(t / HOP_MS)
      const slot = k * N + (((tile % N) + N) % N)
      const held = tileIdx[slot] as number
      if (held !== tile) {
        if (held > tile) continue
        tileIdx[slot] = tile
        cnt[slot] = 1
        amt[slot] = e.amount
        const at = tile * HOP_MS + SIZE_MS
        if (lastTimer[k] !== at) {
          lastTimer[k] = at
          let list = timers.get(at)
          if (!list) {
            list = []
            timers.set(at, list)
            timerHeap.push(at)
            timerHeap.sort((a, b) => a - b)
          }
          list.push(k)
        }
      } else {
        cnt[slot] = (cnt[slot] as number) + 1
        amt[slot] = (amt[slot] as number) + e.amount
      }
    }
    for (let d = 0; d < dirty.length; d++) {
      const k = dirty[d] as number
      for (let which = 0; which < 2; which++) {
        const c = cursor[k * 2 + which] as number
        const tau = Math.max(c, keyMax[k] as number)
        const value = valueAt(k, which, tau)
        const advanced = tau > c
        cursor[k * 2 + which] = tau
        const last = lastVal[k * 2 + which] as number
        if (Number.isNaN(last) || value !== last || advanced) emit(k, which, value, tau)
      }
    }
    const newWm = maxT - OOO_MS
    if (newWm > wm) {
      wm = newWm
      fireTimers()
    }
  }
  // drain to max event time, as the pipeline does at end of input
  if (maxT > wm) {
    wm = maxT
    fireTimers()
  }
  names = names.slice()
  return { ms: performance.now() - t0, cpu: cpuMs() - c0, check }
}

/**
 * The minimal loop: per event one `Map.get`, one add to the entity's 26-double row (the library's
 * row size in this benchmark), and two update objects given to the same checksum sink. Its values
 * are not windowed, so its checksum is not comparable; only its rate is reported.
 */
function runMinimal(batches: Ev[][]) {
  const check = new Checksum()
  const index = new Map<string, number>()
  const STRIDE = 26
  let slab = new Float64Array(1024 * STRIDE)
  const c0 = cpuMs()
  const t0 = performance.now()
  for (const batch of batches) {
    const out: FeatureUpdate[] = []
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i] as Ev
      let k = index.get(e.user)
      if (k === undefined) {
        k = index.size
        index.set(e.user, k)
        if ((k + 1) * STRIDE > slab.length) {
          const grown = new Float64Array(slab.length * 2)
          grown.set(slab)
          slab = grown
        }
      }
      const o = k * STRIDE
      const n = (slab[o] as number) + 1
      slab[o] = n
      const amount = (slab[o + 1] as number) + e.amount
      slab[o + 1] = amount
      out.push({ entity: e.user, feature: 'clicks_5m', value: n, eventTime: e.ts, version: n })
      out.push({ entity: e.user, feature: 'amount_5m', value: amount, eventTime: e.ts, version: n })
    }
    check.addUpdates(out)
  }
  return { ms: performance.now() - t0, cpu: cpuMs() - c0, check }
}

const mb = (b: number) => Math.round(b / 1024 / 1024)
/** Process CPU time (ms, all threads: GC helpers included), less sensitive than wall time to other load on a shared machine. */
function cpuMs(): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
console.log(`generating ${EVENTS.toLocaleString()} events over ${KEYS.toLocaleString()} keys...`)
const batches = generate()

let peakRss = process.memoryUsage().rss
const rssTimer = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss)
}, 50)

// Library first: the baseline's garbage (its maps and typed arrays) must not tax the library's GC.
const lib = await runLibrary(batches)
const base = runBaseline(batches)
const minimal = runMinimal(batches)
clearInterval(rssTimer)
peakRss = Math.max(peakRss, process.memoryUsage().rss)

const libEps = EVENTS / (lib.ms / 1000)
const baseEps = EVENTS / (base.ms / 1000)
const minEps = EVENTS / (minimal.ms / 1000)
const same = lib.check.updates === base.check.updates && lib.check.acc === base.check.acc
const cpuRatio = base.cpu / lib.cpu
console.log('')
console.log(
  `load average ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')} on ${os.cpus().length} cores`,
)
console.log('| run       | time (s) | cpu (s)  | events/s   | updates emitted | checksum    |')
console.log('|-----------|----------|----------|------------|-----------------|-------------|')
const row = (name: string, r: { ms: number; cpu: number }, eps: number, updates: number, sum: string) =>
  console.log(
    `| ${name.padEnd(9)} | ${(r.ms / 1000).toFixed(2).padStart(8)} | ${(r.cpu / 1000).toFixed(2).padStart(8)} | ${Math.round(eps).toLocaleString().padStart(10)} | ${updates.toLocaleString().padStart(15)} | ${sum.padStart(11)} |`,
  )
row('library', lib, libEps, lib.check.updates, String(lib.check.acc))
row('baseline', base, baseEps, base.check.updates, String(base.check.acc))
row('minimal', minimal, minEps, minimal.check.updates, '(no windows)')
console.log(
  `ratio vs baseline: ${(libEps / baseEps).toFixed(3)} by wall time, ${cpuRatio.toFixed(3)} by CPU time`,
)
console.log(`same emitted values: ${same} (library metrics: ${JSON.stringify(lib.metrics)})`)
console.log(`peak RSS: ${mb(peakRss)} MB (includes the ${EVENTS.toLocaleString()} pre-generated events)`)
if (!same) {
  console.error('library and baseline emitted different values: the comparison is void')
  process.exitCode = 1
}
console.log(
  JSON.stringify({
    bench: 'core',
    events: EVENTS,
    events_per_s: Math.round(libEps),
    baseline_events_per_s: Math.round(baseEps),
    ratio_vs_baseline: Number((libEps / baseEps).toFixed(3)),
    cpu_ratio_vs_baseline: Number(cpuRatio.toFixed(3)),
    peak_rss_mb: mb(peakRss),
    load_avg_1m: Number(os.loadavg()[0]?.toFixed(2)),
  }),
)
