/**
 * The write path: a batch becomes one call of the apply script per hash slot (one call in all on a
 * standalone server), writes grouped by feature as the script expects; outcomes come back per write.
 * On a Cluster, the calls of the slots one node serves go out as one pipeline: one round trip and
 * one socket write per node instead of one per slot.
 */
import type { FeatureUpdate } from '@skewless/core'
import type { OnlineFeatureConfig } from '@skewless/online-sink'
import type { ApplyOptions, ApplyResult, PermanentWriteFailure } from '@skewless/online-sink/adapter'
import { checkValue, isTransientError } from '@skewless/online-sink/adapter'
import { encodeEntry } from './encoding.js'
import { isRedirection, toStoreError } from './errors.js'
import { type PreparedFeature, type PreparedFeatures, prepareFeatures } from './feature-specs.js'
import type { KeyLayout } from './keys.js'
import { APPLY_SCRIPT, APPLY_SCRIPT_SHA } from './script.js'
import { groupByNode, keySlot } from './slot.js'
import type { RedisLike } from './types.js'

/** What the write and read paths of one store share. */
export interface StoreContext {
  readonly client: RedisLike
  readonly layout: KeyLayout
  readonly isCluster: boolean
  readonly slackMs: number
  /** The changelog streams when the store keeps a changelog (one per bucket, or the one), else `undefined`. */
  readonly changelogKeys: readonly string[] | undefined
}

/**
 * The arguments of one script call; `sent[k]` is the input index of the write with `keys[k]` (a
 * logged call has one key more: the changelog stream, last).
 */
interface ScriptCall {
  keys: string[]
  header: string[]
  args: string[]
  sent: number[]
  /** Feature of each spec of `header`, in order (the changelog's arguments). */
  specs: PreparedFeature[]
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

/** The `apply` of a store. */
export function createApply(ctx: StoreContext) {
  const { client, layout, isCluster, slackMs, changelogKeys } = ctx
  const bucketed = layout.buckets > 0
  /** Hash slot of each bucket's keys, computed when first needed. */
  const bucketSlots = new Int32Array(layout.buckets).fill(-1)
  const slotOfBucket = (b: number) => {
    let slot = bucketSlots[b] as number
    if (slot === -1) {
      slot = keySlot(layout.valueKey('', b))
      bucketSlots[b] = slot
    }
    return slot
  }
  const preparedCache = new WeakMap<ReadonlyMap<string, OnlineFeatureConfig>, PreparedFeatures>()

  /** Send one script call and write its outcomes at `call.sent[k]`. */
  async function applyCall(call: ScriptCall, outcomes: ApplyResult['outcomes']): Promise<void> {
    let reply: unknown
    try {
      reply = await evalApply(client, call.keys, call.header, call.args)
    } catch (err) {
      throw callFailure(err, call)
    }
    readReply(call, reply, outcomes)
  }

  /** Send several script calls (slots of one Cluster node) as one pipeline. */
  async function applyPipelined(calls: ScriptCall[], outcomes: ApplyResult['outcomes']): Promise<void> {
    const pipe = client.pipeline()
    for (const c of calls) pipe.evalsha(APPLY_SCRIPT_SHA, c.keys.length, c.keys, c.header, c.args)
    let res: [Error | null, unknown][] | null
    try {
      res = await pipe.exec()
    } catch (err) {
      throw callFailure(err, calls[0] as ScriptCall)
    }
    // NOSCRIPT (script cache flushed): that call again with EVAL. Every retry is awaited before
    // a failure is thrown, so none is left running unobserved. A call refused for good fails its
    // own writes only: the other calls' writes landed.
    const retries: Promise<void>[] = []
    let failure: unknown
    const onFailure = (call: ScriptCall, e: unknown) => {
      if (isTransientError(e)) failure ??= e
      else failWrites(call, e, outcomes)
    }
    for (let c = 0; c < calls.length; c++) {
      const call = calls[c] as ScriptCall
      const [err, reply] = res?.[c] ?? [new Error('missing pipeline reply'), null]
      if (err === null) readReply(call, reply, outcomes)
      else if (err.message?.startsWith('NOSCRIPT'))
        retries.push(applyCall(call, outcomes).catch((e: unknown) => onFailure(call, e)))
      else onFailure(call, callFailure(err, call))
    }
    await Promise.all(retries)
    if (failure !== undefined) throw failure
  }

  /** Report every write of `call` as failed with `err` (permanent: the call was refused for good). */
  function failWrites(call: ScriptCall, err: unknown, outcomes: ApplyResult['outcomes']): void {
    const message = err instanceof Error ? err.message : String(err)
    for (const i of call.sent) outcomes[i] = { reason: 'script-error', message }
  }

  /**
   * The error the sink sees when a call failed. ioredis follows MOVED itself, except in some
   * pipelines (auto-pipelining, ioredis #2075; write pipelines, which it never retries): then its
   * slot map is stale, so reload it before the sink retries.
   */
  function callFailure(err: unknown, call: ScriptCall): Error {
    if (isRedirection(err)) client.refreshSlotsCache?.()
    return toStoreError(err, `apply of ${call.sent.length} writes`)
  }

  /** Write the outcomes of one script reply at `call.sent[k]`. */
  function readReply(call: ScriptCall, reply: unknown, outcomes: ApplyResult['outcomes']): void {
    const { keys, sent } = call
    const r = reply as string[]
    const codes = r[0] as string
    let m = 1
    for (let k = 0; k < sent.length; k++) {
      const c = codes.charCodeAt(k)
      const i = sent[k] as number
      if (c === 97) outcomes[i] = 'applied'
      else if (c === 115) outcomes[i] = 'stale'
      else {
        outcomes[i] = {
          reason: c === 119 ? 'wrong-type' : 'script-error',
          message: `online-redis: ${r[m++] ?? 'unknown script error'} (key ${keys[k]})`,
        }
      }
    }
  }

  async function apply(
    writes: readonly FeatureUpdate[],
    features: ReadonlyMap<string, OnlineFeatureConfig>,
    options?: ApplyOptions,
  ): Promise<ApplyResult> {
    const logged = options?.changelog !== false && changelogKeys !== undefined
    const n = writes.length
    const outcomes: ApplyResult['outcomes'] = new Array(n)
    const prepared = prepareFeatures(features, slackMs, preparedCache)
    const byName = prepared.byName
    // Per valid write: its key, encoded value and spec; `valid` lists them in input order.
    const keyOf: string[] = new Array(n)
    const encOf: string[] = new Array(n)
    const specOf = new Int32Array(n)
    const bucketOf = new Int32Array(n)
    const valid: number[] = []
    for (let i = 0; i < n; i++) {
      const w = writes[i] as FeatureUpdate
      const p = byName.get(w.feature)
      if (p === undefined) {
        outcomes[i] = unknownFeature(w.feature)
        continue
      }
      const enc = encodeEntry(w, p.config.valueType)
      if (enc === undefined || badNumbers(w, p.tile)) {
        outcomes[i] = serializationFailure(p, w)
        continue
      }
      const b = layout.bucketOf(w.entity)
      keyOf[i] = p.tile ? layout.tileKey(w.entity, w.feature, b) : layout.valueKey(w.entity, b)
      bucketOf[i] = b
      encOf[i] = enc
      specOf[i] = p.index
      valid.push(i)
    }
    if (valid.length === 0) return { outcomes }
    // The writer's wall clock: physical expiry counts from the later of it and the event time.
    const now = String(Date.now())
    if (!isCluster && !bucketed) {
      const call = buildCall(valid, now)
      if (logged) logCall(call, 0)
      await applyCall(call, outcomes)
      return { outcomes }
    }
    // Bucketed: one call per bucket (its keys and its changelog share a slot). Entity tag on a
    // Cluster: a script may only touch keys of one slot, so one call per slot. The calls of the
    // slots one node serves share a pipeline (all of them on a standalone server), and the nodes
    // are written in parallel.
    const groups = new Map<number, number[]>()
    for (const i of valid) {
      const g0 = bucketed ? (bucketOf[i] as number) : keySlot(keyOf[i] as string)
      const g = groups.get(g0)
      if (g === undefined) groups.set(g0, [i])
      else g.push(i)
    }
    const calls: [slot: number, call: ScriptCall][] = []
    for (const [g0, g] of groups) {
      const call = buildCall(g, now)
      if (bucketed) {
        if (logged) logCall(call, g0)
        calls.push([slotOfBucket(g0), call])
      } else calls.push([g0, call])
    }
    // Every node's call is awaited: a transient failure is thrown (the sink retries the batch) only
    // once no call of this attempt is still running; a node refusing for good fails its own writes.
    const byNode = isCluster ? groupByNode(client.slots, calls) : [calls.map(([, c]) => c)]
    const settled = await Promise.allSettled(
      byNode.map((cs) =>
        cs.length === 1 ? applyCall(cs[0] as ScriptCall, outcomes) : applyPipelined(cs, outcomes),
      ),
    )
    let transient: unknown
    for (let g = 0; g < byNode.length; g++) {
      const r = settled[g] as PromiseSettledResult<void>
      if (r.status === 'fulfilled') continue
      if (isTransientError(r.reason)) transient ??= r.reason
      else for (const c of byNode[g] as ScriptCall[]) failWrites(c, r.reason, outcomes)
    }
    if (transient !== undefined) throw transient
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
      const specs: PreparedFeature[] = []
      const start = new Int32Array(list.length)
      let used = 0
      let at = 0
      for (let s = 0; s < list.length; s++) {
        const c = counts[s] as number
        if (c === 0) continue
        used++
        const sp = (list[s] as PreparedFeature).spec
        header.push(sp[0], sp[1], sp[2], sp[3], String(c))
        specs.push(list[s] as PreparedFeature)
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
        return { keys, header, args, sent, specs }
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
      return { keys, header, args, sent, specs }
    }
  }

  /**
   * Make `call` (of bucket `bucket`) append its applied writes to the changelog: the stream key,
   * then per spec its feature name and where the entity is in its keys (the script cuts it out).
   */
  function logCall(call: ScriptCall, bucket: number): void {
    call.keys.push((changelogKeys as readonly string[])[bucket] as string)
    for (const p of call.specs) {
      const [from, cut] = layout.entitySpan(p.tile ? p.config.name : undefined, bucket)
      call.args.push(p.config.name, String(from), String(cut))
    }
  }

  return apply
}

function unknownFeature(feature: string): PermanentWriteFailure {
  return {
    reason: 'unknown-feature',
    message: `online-redis: feature '${feature}' is not in the features passed to apply; add its OnlineFeatureConfig`,
  }
}

/** Event time, version (and tile start) the script could not compare: not finite numbers. */
function badNumbers(w: FeatureUpdate, tile: boolean): boolean {
  return (
    !Number.isFinite(w.eventTime) || !Number.isFinite(w.version) || (tile && !Number.isFinite(w.tileStart))
  )
}

function serializationFailure(p: PreparedFeature, w: FeatureUpdate): PermanentWriteFailure {
  const message =
    p.tile && typeof w.tileStart !== 'number'
      ? `additive feature '${w.feature}' got an update without tileStart (emit it with emit: 'tiles')`
      : badNumbers(w, p.tile)
        ? `eventTime ${w.eventTime}, version ${w.version}${p.tile ? `, tileStart ${w.tileStart}` : ''} of '${w.feature}' must be finite numbers`
        : (checkValue(p.config, w) ?? `value ${String(w.value)} of '${w.feature}' cannot be encoded`)
  return { reason: 'serialization', message: `online-redis: ${message}` }
}
