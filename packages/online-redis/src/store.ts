/**
 * `redisStore`: the Redis (ioredis) online store, standalone or Cluster. A batch of writes is one
 * EVALSHA of the apply script per hash slot group (one call in total on a standalone server); a
 * read is one pipeline per slot group (HMGET per entity, HGETALL per additive tile hash).
 */
import type { FeatureUpdate } from '@skewless/core'
import type {
  ApplyResult,
  OnlineFeatureConfig,
  OnlineStoreCapabilities,
  PermanentWriteFailure,
  StoredEntry,
  StoredTile,
} from '@skewless/online-sink'
import { checkValue } from '@skewless/online-sink'
import { Cluster, Redis } from 'ioredis'
import { decodeStored, encodePayload } from './encoding.js'
import { toStoreError } from './errors.js'
import { checkPrefix, DEFAULT_PREFIX, tileKeyOf, valueKeyOf } from './keys.js'
import { type PreparedFeature, type PreparedFeatures, prepareFeatures } from './prepared.js'
import { APPLY_SCRIPT, APPLY_SCRIPT_SHA } from './script.js'
import { keySlot } from './slot.js'
import type { RedisLike, RedisStore, RedisStoreOptions } from './types.js'

const STORE_DEFAULTS = { lazyConnect: true, maxRetriesPerRequest: 2, autoResendUnfulfilledCommands: false }

function createClient(options: RedisStoreOptions, onError: (err: Error) => void): RedisLike {
  const extra = options.clientOptions ?? {}
  let client: Redis | Cluster
  if (options.cluster !== undefined) {
    const redisOptions = (extra.redisOptions as Record<string, unknown> | undefined) ?? {}
    // Auto-pipelining: the per-slot script calls of one batch go out in one write per node.
    client = new Cluster(options.cluster as { host: string; port: number }[], {
      lazyConnect: true,
      enableAutoPipelining: true,
      ...extra,
      redisOptions: { ...STORE_DEFAULTS, ...redisOptions },
    })
  } else {
    client = new Redis(options.url ?? 'redis://127.0.0.1:6379', { ...STORE_DEFAULTS, ...extra })
  }
  // Connection errors also fail the pending calls (and the sink retries them); here they are only
  // counted, instead of ioredis printing "Unhandled error event" for each reconnect attempt.
  client.on('error', onError)
  return client as unknown as RedisLike
}

/** One EVALSHA of the apply script; on NOSCRIPT (script cache flushed, failover) EVAL loads it again. */
async function evalApply(
  client: RedisLike,
  keys: string[],
  header: string[],
  args: string[],
): Promise<unknown> {
  // ioredis flattens array arguments one level, so the arrays are passed as they are.
  try {
    return await client.evalsha(APPLY_SCRIPT_SHA, keys.length, keys, header, args)
  } catch (err) {
    if ((err as { message?: string }).message?.startsWith('NOSCRIPT')) {
      return await client.eval(APPLY_SCRIPT, keys.length, keys, header, args)
    }
    throw err
  }
}

/** Create a Redis online store. Connects lazily, on the first call. */
export function redisStore(options: RedisStoreOptions = {}): RedisStore {
  const prefix = checkPrefix(options.prefix ?? DEFAULT_PREFIX)
  const slackMs = options.expirySlackMs ?? 60_000
  const preparedCache = new WeakMap<ReadonlyMap<string, OnlineFeatureConfig>, PreparedFeatures>()
  const owned = options.client === undefined
  let connectionErrors = 0
  const client =
    options.client ??
    createClient(options, () => {
      connectionErrors++
    })
  const isCluster = client.isCluster === true
  const capabilities: OnlineStoreCapabilities = {
    cas: true,
    additive: true,
    ttl: true,
    cluster: isCluster,
    durable: true,
  }

  /** Send one script call and write its outcomes at `call.sent[k]`. */
  async function applyCall(call: ScriptCall, outcomes: ApplyResult['outcomes']): Promise<void> {
    const { keys, sent } = call
    let reply: unknown
    try {
      reply = await evalApply(client, keys, call.header, call.args)
    } catch (err) {
      throw toStoreError(err, `apply of ${keys.length} writes`)
    }
    const r = reply as string[]
    const codes = r[0] as string
    let m = 1
    for (let k = 0; k < keys.length; k++) {
      const c = codes.charCodeAt(k)
      const i = sent[k] as number
      if (c === 97) outcomes[i] = 'applied'
      else if (c === 115) outcomes[i] = 'stale'
      else {
        outcomes[i] = {
          code: c === 119 ? 'wrong-type' : 'script-error',
          reason: `online-redis: ${r[m++] ?? 'unknown script error'} (key ${keys[k]})`,
        }
      }
    }
  }

  async function apply(
    writes: readonly FeatureUpdate[],
    features: ReadonlyMap<string, OnlineFeatureConfig>,
  ): Promise<ApplyResult> {
    const n = writes.length
    const outcomes: ApplyResult['outcomes'] = new Array(n)
    const prepared = prepareFeatures(features, slackMs, preparedCache)
    const byName = prepared.byName
    // Per valid write: its key, encoded value and spec; `valid` lists them in input order.
    const keyOf: string[] = new Array(n)
    const encOf: string[] = new Array(n)
    const specOf = new Int32Array(n)
    const valid: number[] = []
    for (let i = 0; i < n; i++) {
      const w = writes[i] as FeatureUpdate
      const p = byName.get(w.feature)
      if (p === undefined) {
        outcomes[i] = unknownFeature(w.feature)
        continue
      }
      const payload = encodePayload(w.value, p.config.valueType)
      if (payload === undefined || (p.tile && typeof w.tileStart !== 'number')) {
        outcomes[i] = serializationFailure(p, w)
        continue
      }
      keyOf[i] = p.tile ? tileKeyOf(prefix, w.entity, w.feature) : valueKeyOf(prefix, w.entity)
      encOf[i] = `${w.eventTime},${w.version},${payload}`
      specOf[i] = p.index
      valid.push(i)
    }
    if (valid.length === 0) return { outcomes }
    // The writer's wall clock: physical expiry counts from the later of it and the event time.
    const now = String(Date.now())
    if (!isCluster) {
      await applyCall(buildCall(valid, now), outcomes)
      return { outcomes }
    }
    // Cluster: a script may only touch keys of one slot, so one call per slot (in parallel).
    const groups = new Map<number, number[]>()
    for (const i of valid) {
      const slot = keySlot(keyOf[i] as string)
      const g = groups.get(slot)
      if (g === undefined) groups.set(slot, [i])
      else g.push(i)
    }
    const calls: Promise<void>[] = []
    for (const g of groups.values()) calls.push(applyCall(buildCall(g, now), outcomes))
    await Promise.all(calls)
    return { outcomes }

    /** One script call for writes `idx`, grouped by spec (the script's argument layout). */
    function buildCall(idx: number[], nowArg: string): ScriptCall {
      const list = prepared.list
      const counts = new Int32Array(list.length)
      for (let k = 0; k < idx.length; k++) {
        const s = specOf[idx[k] as number] as number
        counts[s] = (counts[s] as number) + 1
      }
      const header: string[] = ['0', nowArg]
      const start = new Int32Array(list.length)
      let used = 0
      let at = 0
      for (let s = 0; s < list.length; s++) {
        const c = counts[s] as number
        if (c === 0) continue
        used++
        const sp = (list[s] as PreparedFeature).spec
        header.push(sp[0], sp[1], sp[2], sp[3], String(c))
        start[s] = at
        at += c
      }
      header[0] = String(used)
      const keys: string[] = new Array(idx.length)
      const sent: number[] = new Array(idx.length)
      if (used === 1) {
        // One feature (the usual batch): input order is spec order.
        const tile = (list[specOf[idx[0] as number] as number] as PreparedFeature).tile
        const args: string[] = new Array(tile ? 2 * idx.length : idx.length)
        for (let k = 0; k < idx.length; k++) {
          const i = idx[k] as number
          keys[k] = keyOf[i] as string
          sent[k] = i
          if (tile) {
            args[2 * k] = String((writes[i] as FeatureUpdate).tileStart)
            args[2 * k + 1] = encOf[i] as string
          } else args[k] = encOf[i] as string
        }
        return { keys, header, args, sent }
      }
      // Several features: place each write at its spec's next slot (counting sort; at most one
      // write per key per batch, so no key's writes are reordered).
      const pos = new Int32Array(start)
      for (let k = 0; k < idx.length; k++) {
        const i = idx[k] as number
        const s = specOf[i] as number
        const at2 = pos[s] as number
        pos[s] = at2 + 1
        keys[at2] = keyOf[i] as string
        sent[at2] = i
      }
      const args: string[] = []
      for (let k = 0; k < sent.length; k++) {
        const i = sent[k] as number
        if ((list[specOf[i] as number] as PreparedFeature).tile)
          args.push(String((writes[i] as FeatureUpdate).tileStart))
        args.push(encOf[i] as string)
      }
      return { keys, header, args, sent }
    }
  }

  async function read(
    entities: readonly string[],
    features: readonly OnlineFeatureConfig[],
  ): Promise<StoredEntry[][]> {
    const valueIdx: number[] = []
    const valueFields: string[] = []
    const tileIdx: number[] = []
    for (let j = 0; j < features.length; j++) {
      const f = features[j] as OnlineFeatureConfig
      if ((f.strategy ?? 'cas') === 'additive') tileIdx.push(j)
      else {
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
      if (valueIdx.length > 0) {
        cmdKeys.push(valueKeyOf(prefix, e))
        cmdEntity.push(i)
        cmdFeature.push(-1)
      }
      for (const j of tileIdx) {
        cmdKeys.push(tileKeyOf(prefix, e, (features[j] as OnlineFeatureConfig).name))
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
      for (const g of bySlot.values()) groups.push(g)
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

  return {
    name: 'redis',
    capabilities,
    apply,
    read,
    async close() {
      if (!owned) return
      try {
        await client.quit()
      } catch {
        client.disconnect()
      }
    },
    getInstance: () => client,
    get connectionErrors() {
      return connectionErrors
    },
    valueKey: (entity) => valueKeyOf(prefix, entity),
    tileKey: (entity, feature) => tileKeyOf(prefix, entity, feature),
  }
}

/** The arguments of one script call; `sent[k]` is the input index of the write with `keys[k]`. */
interface ScriptCall {
  keys: string[]
  header: string[]
  args: string[]
  sent: number[]
}

const MISSING: StoredEntry = Object.freeze({ kind: 'missing' }) as StoredEntry

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

function unknownFeature(feature: string): PermanentWriteFailure {
  return {
    code: 'unknown-feature',
    reason: `online-redis: feature '${feature}' is not in the features passed to apply; add its OnlineFeatureConfig`,
  }
}

function serializationFailure(p: PreparedFeature, w: FeatureUpdate): PermanentWriteFailure {
  const reason =
    p.tile && typeof w.tileStart !== 'number'
      ? `additive feature '${w.feature}' got an update without tileStart (emit it with emit: 'tiles')`
      : (checkValue(p.config, w) ?? `value ${String(w.value)} of '${w.feature}' cannot be encoded`)
  return { code: 'serialization', reason: `online-redis: ${reason}` }
}
