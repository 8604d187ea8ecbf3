/** Shared by the online benchmarks: feed a sink in chunks, and check the store's final state. */
import type { FeatureUpdate, Sink } from '@skewless/core'
import type { OnlineFeatureConfig, OnlineStore } from '@skewless/online-sink'

/** Hand `updates` to `sink` in chunks of `chunk` (awaiting backpressure), then flush it. */
export async function writeAll(sink: Sink<FeatureUpdate>, updates: FeatureUpdate[], chunk: number) {
  for (let i = 0; i < updates.length; i += chunk) {
    const r = sink.write(updates.slice(i, i + chunk))
    if (r) await r
  }
  await sink.flush()
}

/** Every key must hold its update with the greatest (eventTime, version): coalescing lost nothing. */
export async function checkFinalState(
  store: OnlineStore,
  features: readonly OnlineFeatureConfig[],
  updates: readonly FeatureUpdate[],
): Promise<void> {
  const latest = new Map<string, FeatureUpdate>()
  for (const u of updates) {
    const p = latest.get(u.entity)
    if (!p || u.eventTime > p.eventTime || (u.eventTime === p.eventTime && u.version > p.version))
      latest.set(u.entity, u)
  }
  const entities = [...latest.keys()]
  for (let i = 0; i < entities.length; i += 10_000) {
    const part = entities.slice(i, i + 10_000)
    const rows = await store.read(part, features)
    for (let k = 0; k < part.length; k++) {
      const e = rows[k]?.[0]
      const want = latest.get(part[k] as string) as FeatureUpdate
      if (e?.kind !== 'value' || e.stored.eventTime !== want.eventTime || e.stored.value !== want.value) {
        throw new Error(`final state of ${part[k]} is ${JSON.stringify(e)}, expected ${JSON.stringify(want)}`)
      }
    }
  }
}
