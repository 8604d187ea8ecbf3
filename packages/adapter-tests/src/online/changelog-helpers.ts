/** Helpers of the changelog conformance tests: reading to the end, and comparing writes by identity. */
import assert from 'node:assert/strict'
import type { FeatureUpdate, FeatureWrite, SourcePosition } from '@skewless/core'
import type { OnlineStore } from '@skewless/online-sink'

/** Every write of the changelog after `after` (pages of `limit`), and the position at its end. */
export async function readToEnd(
  store: OnlineStore,
  after: SourcePosition | undefined,
  limit = 1000,
): Promise<{ writes: FeatureWrite[]; position: SourcePosition | undefined; pages: FeatureWrite[][] }> {
  const read = store.readChangelog?.bind(store)
  assert.ok(read, 'a store with the changelog capability has readChangelog')
  const writes: FeatureWrite[] = []
  const pages: FeatureWrite[][] = []
  let position = after
  // Bounded: a changelog that never says `end` fails the test instead of hanging it.
  for (let k = 0; k < 100_000; k++) {
    const page = await read(position, { limit })
    for (const w of page.writes) writes.push(w)
    pages.push(page.writes)
    if (page.writes.length > 0)
      assert.notDeepEqual(page.position, position, 'a page with writes moves the position')
    position = page.position
    if (page.end) return { writes, position, pages }
    assert.ok(page.writes.length > 0, 'a page before the end holds writes')
  }
  throw new Error('readChangelog never reported end')
}

/** The writes of `entities` only (a shared store's changelog holds other tests' writes too). */
export function mine(writes: readonly FeatureWrite[], entities: readonly string[]): FeatureWrite[] {
  const set = new Set(entities)
  return writes.filter((w) => set.has(w.entity))
}

/** A write as the changelog should hold it, without `availableTime`. */
export function logged(w: FeatureUpdate): Record<string, unknown> {
  const out: Record<string, unknown> = {
    entity: w.entity,
    feature: w.feature,
    value: w.value,
    eventTime: w.eventTime,
    version: w.version,
    outcome: 'applied',
  }
  if (w.tileStart !== undefined) out.tileStart = w.tileStart
  return out
}

/** A changelog write without `availableTime`, to compare with `logged`. */
export function withoutTime(w: FeatureWrite): Record<string, unknown> {
  const { availableTime: _, ...rest } = w
  return rest
}

/** Key of a write: (entity, feature[, tileStart]). */
export function keyOf(w: FeatureUpdate): string {
  return `${w.entity}\u0000${w.feature}\u0000${w.tileStart ?? ''}`
}

/** A total order on writes for comparing multisets (values through a tagged string, NaN and -0 kept). */
function sig(w: Record<string, unknown>): string {
  const v = w.value
  const value = typeof v === 'number' ? (Object.is(v, -0) ? '-0' : String(v)) : JSON.stringify(v)
  return `${keyOf(w as unknown as FeatureUpdate)}\u0000${w.eventTime}\u0000${w.version}\u0000${typeof v}:${value}`
}

/**
 * Assert that `log` is, call after call, exactly the writes each call applied: the writes of call k
 * (in any order within it) come after those of call k − 1, each once. With `order: 'per-key'` (a
 * store whose changelog orders writes per key only, e.g. one stream per bucket), the log holds the
 * same writes, each once, and each key's writes in call order.
 */
export function assertLoggedByCall(
  log: readonly FeatureWrite[],
  calls: readonly FeatureUpdate[][],
  order: 'total' | 'per-key' = 'total',
): void {
  const bySig = (a: Record<string, unknown>, b: Record<string, unknown>) => (sig(a) < sig(b) ? -1 : 1)
  if (order === 'per-key') {
    const want = calls.flat().map(logged)
    const got = log.map(withoutTime)
    assert.deepStrictEqual([...got].sort(bySig), [...want].sort(bySig), 'writes logged')
    const seq = (ws: Record<string, unknown>[]) => {
      const m = new Map<string, string[]>()
      for (const w of ws) {
        const k = keyOf(w as unknown as FeatureUpdate)
        m.set(k, [...(m.get(k) ?? []), sig(w)])
      }
      return m
    }
    assert.deepStrictEqual(seq(got), seq(want), "each key's writes in call order")
    return
  }
  let at = 0
  for (let c = 0; c < calls.length; c++) {
    const want = (calls[c] as FeatureUpdate[]).map(logged)
    const got = log.slice(at, at + want.length).map(withoutTime)
    assert.deepStrictEqual(got.sort(bySig), want.sort(bySig), `writes logged for apply call ${c}`)
    at += want.length
  }
  assert.equal(log.length, at, 'the changelog holds no other writes')
}
