/**
 * The read path: one pipeline per Cluster node (one in all on a standalone server), HMGET of the value
 * hash per entity and HGETALL per additive tile hash, decoded to raw `StoredEntry`s.
 */
import type { OnlineFeatureConfig } from '@skewless/online-sink'
import type { StoredEntry, StoredTile } from '@skewless/online-sink/adapter'
import type { StoreContext } from './apply.js'
import { decodeStored } from './encoding.js'
import { isRedirection, toStoreError } from './errors.js'
import { checkFeatureName } from './keys.js'
import { groupByNode, keySlot } from './slot.js'

/** The `read` of a store. */
export function createRead(ctx: StoreContext) {
  const { client, layout, isCluster } = ctx

  async function read(
    entities: readonly string[],
    features: readonly OnlineFeatureConfig[],
  ): Promise<StoredEntry[][]> {
    const valueIdx: number[] = []
    const valueFields: string[] = []
    const tileIdx: number[] = []
    for (let j = 0; j < features.length; j++) {
      const f = features[j] as OnlineFeatureConfig
      if ((f.strategy ?? 'cas') === 'additive') {
        checkFeatureName(f.name)
        tileIdx.push(j)
      } else {
        valueIdx.push(j)
        valueFields.push(f.name)
      }
    }
    // One command per (entity, hash): `cmdEntity[c]`, and `cmdFeature[c]` = -1 for the HMGET of values.
    const cmdKeys: string[] = []
    const cmdEntity: number[] = []
    const cmdFeature: number[] = []
    for (let i = 0; i < entities.length; i++) {
      const e = entities[i] as string
      const b = layout.bucketOf(e)
      if (valueIdx.length > 0) {
        cmdKeys.push(layout.valueKey(e, b))
        cmdEntity.push(i)
        cmdFeature.push(-1)
      }
      for (const j of tileIdx) {
        cmdKeys.push(layout.tileKey(e, (features[j] as OnlineFeatureConfig).name, b))
        cmdEntity.push(i)
        cmdFeature.push(j)
      }
    }
    const out: StoredEntry[][] = new Array(entities.length)
    for (let i = 0; i < entities.length; i++) out[i] = new Array(features.length).fill(MISSING)
    if (cmdKeys.length === 0) return out
    const groups: number[][] = []
    if (!isCluster) groups.push(cmdKeys.map((_, c) => c))
    else {
      const bySlot = new Map<number, number[]>()
      for (let c = 0; c < cmdKeys.length; c++) {
        const slot = keySlot(cmdKeys[c] as string)
        const g = bySlot.get(slot)
        if (g === undefined) bySlot.set(slot, [c])
        else g.push(c)
      }
      for (const g of groupByNode(client.slots, bySlot)) groups.push(g.flat())
    }
    const replies = await Promise.all(
      groups.map(async (g) => {
        const pipe = client.pipeline()
        for (const c of g) {
          if (cmdFeature[c] === -1) pipe.hmget(cmdKeys[c] as string, ...valueFields)
          else pipe.hgetall(cmdKeys[c] as string)
        }
        let res: [Error | null, unknown][] | null
        try {
          res = await pipe.exec()
        } catch (err) {
          throw toStoreError(err, `read of ${entities.length} entities`)
        }
        return res ?? []
      }),
    )
    for (let gi = 0; gi < groups.length; gi++) {
      const g = groups[gi] as number[]
      const res = replies[gi] as [Error | null, unknown][]
      for (let k = 0; k < g.length; k++) {
        const c = g[k] as number
        const [err, val] = res[k] ?? [new Error('missing pipeline reply'), null]
        if (err) {
          // A key that is not a hash (WRONGTYPE) holds nothing of ours: it reads as missing.
          if (err.message.startsWith('WRONGTYPE')) continue
          if (isRedirection(err)) client.refreshSlotsCache?.()
          throw toStoreError(err, `read of ${entities.length} entities`)
        }
        const row = out[cmdEntity[c] as number] as StoredEntry[]
        const fj = cmdFeature[c] as number
        if (fj === -1) {
          const vals = val as (string | null)[]
          for (let v = 0; v < valueIdx.length; v++) {
            const raw = vals[v]
            if (raw == null) continue
            const stored = decodeStored(raw)
            if (stored !== undefined) row[valueIdx[v] as number] = { kind: 'value', stored }
          }
        } else {
          const tiles = decodeTiles(val as Record<string, string>)
          if (tiles.length > 0) row[fj] = { kind: 'tiles', tiles }
        }
      }
    }
    return out
  }

  return read
}

const MISSING: StoredEntry = Object.freeze({ kind: 'missing' }) as StoredEntry

/** Tiles of a tile hash, by tileStart; the horizon field and foreign fields are skipped. */
function decodeTiles(hash: Record<string, string>): StoredTile[] {
  const tiles: StoredTile[] = []
  for (const field in hash) {
    if (field === 'h') continue
    const stored = decodeStored(hash[field] as string)
    if (stored === undefined) continue
    tiles.push({
      value: stored.value,
      eventTime: stored.eventTime,
      version: stored.version,
      tileStart: Number(field),
    })
  }
  tiles.sort((a, b) => a.tileStart - b.tileStart)
  return tiles
}
