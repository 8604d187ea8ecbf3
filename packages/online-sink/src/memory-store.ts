/**
 * The in-memory `OnlineStore`: exact upsert / CAS / additive-tile semantics in a `Map`, for tests,
 * examples and single-process use. It is the reference the conformance suite tests itself against.
 */
import {
  type Clock,
  type Duration,
  type FeatureUpdate,
  type FeatureWrite,
  InvalidArgumentError,
  InvalidDefinitionError,
  type SourcePosition,
  systemClock,
  type TelemetryOptions,
} from '@skewless/core'
import { isNewerVersion, storeTelemetry } from '@skewless/core/adapter'
import { checkNumber, durationOption, MAX_TIMER_MS } from '@skewless/core/internal'
import type {
  ApplyResult,
  ChangelogPage,
  OnlineFeatureConfig,
  OnlineStore,
  OnlineStoreCapabilities,
  StoredEntry,
  StoredTile,
  StoredValue,
} from './types.js'
import { checkValue } from './value-check.js'

/** Options of `memoryStore`. */
export interface MemoryStoreOptions extends TelemetryOptions {
  /**
   * Processing-time clock for physical expiry: a value written at `now` with a feature `ttlMs` is
   * dropped at `now + ttlMs`, an additive feature's tiles no earlier than `eventTime + size + ttlMs`
   * (never earlier than the reader's TTL filter hides them; never without a TTL). @default systemClock
   */
  clock?: Clock
  /** Delay every `apply` and `read` by this long, 0 to 2^31 − 1 ms (a slow store, for backpressure tests). @default 0 */
  latency?: Duration
  /** @deprecated Use `latency` (a `Duration`). */
  latencyMs?: number
  /**
   * Keep a changelog (capability `changelog`): every write `apply` applies is appended in the same
   * step, `availableTime` the `clock` then plus 1 ms (the clock has ms resolution: a read at the
   * same ms may have run just before the write, so the next ms is the upper bound of when the
   * write became readable; the Redis store rounds the same way); positions are increasing integers. It grows until
   * `trimChangelog`; `changelogLength()` tells how many writes it holds. @default false
   */
  changelog?: boolean
}

/** Test-only fault hooks of each memory store, reached through `@skewless/online-sink/testing`. */
export const faultHooks = new WeakMap<
  MemoryStore,
  { corrupt(entity: string, feature: string): void; repair(entity: string, feature: string): void }
>()

/** The memory store, with counters for tests (fault hooks are in `@skewless/online-sink/testing`). */
export interface MemoryStore extends OnlineStore {
  /** Number of `apply` calls so far. */
  readonly applyCalls: number
  /** Number of `read` calls so far. */
  readonly readCalls: number
  /** Number of (entity, feature) entries held (expired ones included until touched). */
  readonly size: number
  /** Number of writes the changelog holds (0 without the `changelog` option). */
  changelogLength(): number
}

interface ValueEntry extends StoredValue {
  kind: 'value'
  expiresAt: number
}

interface TilesEntry {
  kind: 'tiles'
  tiles: Map<number, StoredTile>
  /** Tiles starting before this were pruned; writes to them are stale (replays never double count). */
  horizon: number
  newest: number
  expiresAt: number
}

type Entry = ValueEntry | TilesEntry

/**
 * Create an in-memory online store. Capabilities: cas, additive, ttl, changelog with the option;
 * not clustered, not durable.
 * @throws InvalidDefinitionError when `latency` is not a duration in [0, 2^31 − 1] ms, or
 * `changelog` is not a boolean.
 */
export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const clock = options.clock ?? systemClock
  const latency = durationOption('memoryStore', 'latency', options.latency, 'latencyMs', options.latencyMs)
  const latencyMs =
    latency.ms === undefined
      ? 0
      : checkNumber('memoryStore', latency.name, latency.ms, { min: 0, max: MAX_TIMER_MS, ms: true })
  const changelog = options.changelog ?? false
  if (typeof changelog !== 'boolean') {
    throw new InvalidDefinitionError(
      `online-sink memoryStore: changelog must be true or false, got ${typeof changelog} ${JSON.stringify(changelog)}`,
    )
  }
  // The changelog: `log[k]` has position `logBase + k` (positions start at 1); trimmed writes are
  // cut from the front once they are half the array (amortised O(1) per write).
  let log: FeatureWrite[] = []
  let logHead = 0
  let logBase = 1
  const data = new Map<string, Entry>()
  const corrupted = new Set<string>()
  let applyCalls = 0
  let readCalls = 0
  const capabilities: OnlineStoreCapabilities = {
    cas: true,
    additive: true,
    ttl: true,
    cluster: false,
    durable: false,
    changelog,
  }
  const keyOf = (entity: string, feature: string) => `${entity.length}:${entity}${feature}`

  function live(key: string, now: number): Entry | undefined {
    const e = data.get(key)
    if (e !== undefined && e.expiresAt <= now) {
      data.delete(key)
      return undefined
    }
    return e
  }

  function applyNow(
    writes: readonly FeatureUpdate[],
    features: ReadonlyMap<string, OnlineFeatureConfig>,
    logging: boolean,
  ) {
    const now = clock.now()
    const logApplied = (w: FeatureUpdate) => {
      const entry: FeatureWrite = {
        entity: w.entity,
        feature: w.feature,
        value: w.value,
        eventTime: w.eventTime,
        version: w.version,
        availableTime: now + 1,
        outcome: 'applied',
      }
      if (w.tileStart !== undefined) entry.tileStart = w.tileStart
      log.push(entry)
    }
    const outcomes: ApplyResult['outcomes'] = new Array(writes.length)
    for (let i = 0; i < writes.length; i++) {
      const w = writes[i] as FeatureUpdate
      const f = features.get(w.feature)
      if (f === undefined) {
        outcomes[i] = {
          reason: 'unknown-feature',
          message: `memory store: feature '${w.feature}' is not configured`,
        }
        continue
      }
      const key = keyOf(w.entity, w.feature)
      if (corrupted.has(key)) {
        outcomes[i] = {
          reason: 'wrong-type',
          message: `memory store: key of (${w.entity}, ${w.feature}) is corrupted`,
        }
        continue
      }
      const bad = checkValue(f, w)
      if (bad !== undefined) {
        outcomes[i] = { reason: 'serialization', message: `memory store: ${bad}` }
        continue
      }
      let expiresAt = f.ttlMs === undefined ? Number.POSITIVE_INFINITY : now + f.ttlMs
      const strategy = f.strategy ?? 'cas'
      const e = live(key, now)
      if (strategy === 'additive') {
        // Tiles must outlive what a reader can still see: the decayed 0 after the newest tile left
        // the window, until the TTL hides it (`size + ttl` after the tile, whose start is <= the
        // write's eventTime). Redis keeps tile hashes the same way.
        const win = f.window
        if (win !== undefined && (win.kind === 'tumbling' || win.kind === 'hopping'))
          expiresAt = Math.max(expiresAt, w.eventTime + win.sizeMs + (f.ttlMs ?? Number.POSITIVE_INFINITY))
        const ts = w.tileStart as number
        let te = e?.kind === 'tiles' ? e : undefined
        if (te === undefined) {
          te = { kind: 'tiles', tiles: new Map(), horizon: Number.NEGATIVE_INFINITY, newest: ts, expiresAt }
          data.set(key, te)
        }
        const old = te.tiles.get(ts)
        if (
          ts < te.horizon ||
          (old !== undefined && !isNewerVersion(w.eventTime, w.version, old.eventTime, old.version))
        ) {
          outcomes[i] = 'stale'
          continue
        }
        te.tiles.set(ts, { value: w.value, eventTime: w.eventTime, version: w.version, tileStart: ts })
        te.expiresAt = Math.max(te.expiresAt, expiresAt)
        if (ts > te.newest) te.newest = ts
        prune(te, f)
        outcomes[i] = 'applied'
        if (logging) logApplied(w)
        continue
      }
      if (
        strategy === 'cas' &&
        e?.kind === 'value' &&
        !isNewerVersion(w.eventTime, w.version, e.eventTime, e.version)
      ) {
        outcomes[i] = 'stale'
        continue
      }
      data.set(key, { kind: 'value', value: w.value, eventTime: w.eventTime, version: w.version, expiresAt })
      outcomes[i] = 'applied'
      if (logging) logApplied(w)
    }
    return { outcomes }
  }

  function readNow(entities: readonly string[], features: readonly OnlineFeatureConfig[]): StoredEntry[][] {
    const now = clock.now()
    const out: StoredEntry[][] = new Array(entities.length)
    for (let i = 0; i < entities.length; i++) {
      const row: StoredEntry[] = new Array(features.length)
      for (let j = 0; j < features.length; j++) {
        const e = live(keyOf(entities[i] as string, (features[j] as OnlineFeatureConfig).name), now)
        if (e === undefined) row[j] = { kind: 'missing' }
        else if (e.kind === 'value') {
          row[j] = { kind: 'value', stored: { value: e.value, eventTime: e.eventTime, version: e.version } }
        } else {
          const tiles: StoredTile[] = []
          for (const t of e.tiles.values()) tiles.push({ ...t })
          tiles.sort((a, b) => a.tileStart - b.tileStart)
          row[j] = { kind: 'tiles', tiles }
        }
      }
      out[i] = row
    }
    return out
  }

  const delay = () => new Promise<void>((r) => setTimeout(r, latencyMs))
  const tel = storeTelemetry('skewless.memory', options)

  const store: MemoryStore = {
    name: 'memory',
    capabilities,
    apply: tel.timed('apply', async (writes, features, applyOptions) => {
      applyCalls++
      if (latencyMs > 0) await delay()
      return applyNow(writes, features, changelog && applyOptions?.changelog !== false)
    }),
    ...(changelog
      ? {
          readChangelog: tel.timed('read_changelog', readChangelog),
          trimChangelog: tel.timed('trim_changelog', trimChangelog),
          changelogHead: tel.timed('changelog_head', changelogHead),
        }
      : {}),
    read: tel.timed('read', async (entities, features) => {
      readCalls++
      if (latencyMs > 0) await delay()
      return readNow(entities, features)
    }),
    async close() {},
    get applyCalls() {
      return applyCalls
    },
    get readCalls() {
      return readCalls
    },
    get size() {
      return data.size
    },
    changelogLength: () => log.length - logHead,
  }
  faultHooks.set(store, {
    corrupt: (entity, feature) => corrupted.add(keyOf(entity, feature)),
    repair: (entity, feature) => corrupted.delete(keyOf(entity, feature)),
  })
  return store

  async function readChangelog(
    after: SourcePosition | undefined,
    readOptions: { limit: number; upTo?: SourcePosition },
  ): Promise<ChangelogPage> {
    const limit = readOptions?.limit
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new InvalidArgumentError(
        `online-sink: memory store: readChangelog limit must be a whole number >= 1, got ${JSON.stringify(limit)}`,
      )
    }
    // A position before the oldest kept write (trimmed since) reads from the oldest.
    const from =
      after === undefined
        ? logHead
        : Math.max(logHead, checkPosition(after, 'readChangelog after') - logBase + 1)
    const stop =
      readOptions.upTo === undefined
        ? log.length
        : Math.min(log.length, checkPosition(readOptions.upTo, 'readChangelog upTo') - logBase + 1)
    const to = Math.min(stop, from + limit)
    if (from >= to) return { writes: [], position: after, end: true }
    const writes = log.slice(from, to).map((w) => ({ ...w }))
    return { writes, position: logBase + to - 1, end: to === stop }
  }

  async function changelogHead(): Promise<SourcePosition | undefined> {
    return log.length > logHead ? logBase + log.length - 1 : undefined
  }

  async function trimChangelog(upTo: SourcePosition): Promise<void> {
    const k = Math.min(log.length, checkPosition(upTo, 'trimChangelog upTo') - logBase + 1)
    if (k <= logHead) return
    logHead = k
    if (logHead * 2 >= log.length) {
      log = log.slice(logHead)
      logBase += logHead
      logHead = 0
    }
  }
}

/** A memory changelog position: a whole number >= 0 (0 is before the first write). */
function checkPosition(p: SourcePosition, what: string): number {
  if (typeof p === 'number' && Number.isSafeInteger(p) && p >= 0) return p
  throw new InvalidArgumentError(
    `online-sink: memory store: ${what} must be a changelog position as readChangelog returns it (a whole number >= 0), got ${JSON.stringify(p)}`,
  )
}

/**
 * Drop tiles that can no longer be in the window at any time at or after the newest tile, keeping
 * one extra window of margin for readers on a slightly older clock.
 */
function prune(te: TilesEntry, f: OnlineFeatureConfig): void {
  const w = f.window
  if (w === undefined || (w.kind !== 'tumbling' && w.kind !== 'hopping')) return
  const horizon = te.newest - 2 * w.sizeMs
  if (horizon <= te.horizon || te.tiles.size <= (2 * w.sizeMs) / w.hopMs + 1) return
  for (const ts of te.tiles.keys()) if (ts < horizon) te.tiles.delete(ts)
  te.horizon = horizon
}
