/**
 * The comparable form of what a crash test compares: a store's contents and a log's records, as
 * strings `entity/feature[/tileStart] → value@eventTime#version` (shared by the crash storm and the
 * two-worker run, which compare a stormed run with an uninterrupted one).
 */
import type { FeatureWrite, OnlineFeatureConfig } from '@skewless/core'
import type { OnlineStore } from '@skewless/online-sink'
import type { StoredEntry } from '@skewless/online-sink/adapter'

/** What `store` holds for `entities` × `features`, keyed as above; the store is closed afterwards. */
export async function dumpStoreState(
  store: OnlineStore,
  entities: readonly string[],
  features: readonly OnlineFeatureConfig[],
): Promise<Map<string, string>> {
  try {
    const rows = await store.read(entities, features)
    const out = new Map<string, string>()
    rows.forEach((row, i) => {
      row.forEach((entry: StoredEntry, j) => {
        const key = `${entities[i]}/${features[j]?.name}`
        if (entry.kind === 'value') {
          const s = entry.stored
          out.set(key, `${JSON.stringify(s.value)}@${s.eventTime}#${s.version}`)
        } else if (entry.kind === 'tiles') {
          for (const t of entry.tiles) {
            out.set(`${key}/${t.tileStart}`, `${JSON.stringify(t.value)}@${t.eventTime}#${t.version}`)
          }
        }
      })
    })
    return out
  } finally {
    await store.close()
  }
}

/** One logged write: what "logged twice" means. */
export const identity = (w: FeatureWrite) =>
  `${w.entity}/${w.feature}/${w.tileStart ?? ''}/${w.eventTime}/${w.version}`
/** The stored key a write targets. */
export const keyOf = (w: FeatureWrite) =>
  `${w.entity}/${w.feature}${w.tileStart === undefined ? '' : `/${w.tileStart}`}`
/** The stored state a write leaves. */
export const storedOf = (w: FeatureWrite) => `${JSON.stringify(w.value)}@${w.eventTime}#${w.version}`
