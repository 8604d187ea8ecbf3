/**
 * The contract of @skewless/online-redis: the structural subset of an ioredis client the store
 * calls (kysely style: no ioredis types here, so any client with these methods works), and the
 * options of `redisStore`.
 */
import type { Duration, Logger, TelemetryOptions } from '@skewless/core'
import type { OnlineStore } from '@skewless/online-sink'

/** A command argument as ioredis accepts it. */
export type RedisArg = string | number | Buffer

/** The subset of an ioredis pipeline the store calls. */
export interface RedisPipelineLike {
  /** Queue `HMGET key ...fields`. */
  hmget(key: string, ...fields: string[]): unknown
  /** Queue `HGETALL key`. */
  hgetall(key: string): unknown
  /** Queue `EVALSHA sha numKeys ...keysAndArgs` (arrays in the arguments are flattened). */
  evalsha(sha: string, numKeys: number, ...keysAndArgs: (RedisArg | RedisArg[])[]): unknown
  /** Send the queued commands; one `[error, result]` pair per command. */
  exec(): Promise<[Error | null, unknown][] | null>
}

/**
 * The subset of an ioredis `Redis` or `Cluster` the store calls. Pass either; whether it is a
 * Cluster is read from `isCluster` (ioredis sets it on both), never with `instanceof`.
 */
export interface RedisLike {
  /** `true` for an ioredis `Cluster`; batches are then split by hash slot. */
  readonly isCluster?: boolean
  /** Connection state (`'wait'` before a lazy connect, `'ready'`, `'end'`...). */
  readonly status?: string
  /** `EVALSHA sha numKeys ...keysAndArgs` (arrays in the arguments are flattened). */
  evalsha(sha: string, numKeys: number, ...keysAndArgs: (RedisArg | RedisArg[])[]): Promise<unknown>
  /** `EVAL script numKeys ...keysAndArgs` (the NOSCRIPT fallback; it also caches the script). */
  eval(script: string, numKeys: number, ...keysAndArgs: (RedisArg | RedisArg[])[]): Promise<unknown>
  /** ioredis `Cluster` only: reload the slot map (called when a MOVED / ASK reply reaches the store). */
  refreshSlotsCache?(): void
  /**
   * ioredis `Cluster` only: the slot map (slot → node keys, master first). With it, the calls of
   * all slots one node serves share one pipeline; without it, each slot gets its own.
   */
  readonly slots?: readonly (readonly string[] | undefined)[]
  /**
   * `XRANGE key start end COUNT count`: entries as `[id, [field, value, ...]]`. Needed with
   * `changelog: true` (ioredis has it).
   */
  xrange?(
    key: string,
    start: string,
    end: string,
    countToken: 'COUNT',
    count: number,
  ): Promise<[string, string[]][]>
  /** `XREVRANGE key end start COUNT count`: the newest entries first. Used by `changelogHead` (ioredis has it). */
  xrevrange?(
    key: string,
    end: string,
    start: string,
    countToken: 'COUNT',
    count: number,
  ): Promise<[string, string[]][]>
  /** `XTRIM key MINID threshold`: entries removed. Needed with `changelog: true` (ioredis has it). */
  xtrim?(key: string, strategy: 'MINID', threshold: string): Promise<number>
  /** Start a pipeline (on a Cluster: all its keys must be in slots one node serves). */
  pipeline(): RedisPipelineLike
  /** Close gracefully (used only for clients the store created). */
  quit(): Promise<unknown>
  /** Close at once (used when `quit` fails on a broken connection). */
  disconnect(): void
}

/** Options of `redisStore`. Give `client`, or `url`, or `cluster`; with none, `redis://127.0.0.1:6379`. */
export interface RedisStoreOptions extends TelemetryOptions {
  /**
   * An ioredis `Redis` or `Cluster` instance (or anything matching `RedisLike`). The store never
   * closes a client it was given. @default none: the store creates one from `url` / `cluster`
   */
  client?: RedisLike
  /** Connection URL for a standalone client the store creates (lazily). @default 'redis://127.0.0.1:6379' */
  url?: string
  /** Startup nodes of a Redis Cluster: the store creates an ioredis `Cluster` (lazily). @default none */
  cluster?: readonly { host: string; port: number }[]
  /**
   * Extra ioredis options for a client the store creates (`RedisOptions`, or `ClusterOptions` with
   * `cluster`), merged over the store's defaults (`lazyConnect: true`, `maxRetriesPerRequest: 2`,
   * `autoResendUnfulfilledCommands: false`, so a lost connection fails the call and the sink retries).
   * @default {}
   */
  clientOptions?: Record<string, unknown>
  /**
   * Prefix of every key. Must not contain `{` or `}` (the hash tag is the entity or the bucket); one
   * that does throws `InvalidDefinitionError`.
   * @default 'sk:'
   */
  prefix?: string
  /**
   * Extra physical lifetime added to a TTL feature's key beyond its logical TTL, so Redis never
   * expires a value the reader could still serve (clock skew between writer and server). A finite
   * duration >= 0; anything else throws `InvalidDefinitionError`.
   * @default '60s'
   */
  expirySlack?: Duration
  /** @deprecated Use `expirySlack` (a `Duration`). */
  expirySlackMs?: number
  /**
   * Keep a changelog: every write `apply` applies is appended, in the same atomic script call, to
   * the Redis Stream `<prefix>changelog` (one entry per call; with `buckets`, one stream per bucket,
   * `<prefix>{b<k>}changelog`), with the server's time as its `availableTime`; read it with
   * `readChangelog`, trim it with `trimChangelog` (something must: it grows until trimmed).
   * `{ name }` names the stream `...changelog:<name>`, so several pipelines (one per stream
   * partition) on one Redis each consume their own; a name is 1-64 of `A-Z a-z 0-9 _ . -`.
   * Redis >= 6.2. On a Cluster it needs `buckets` > 0 (else `InvalidDefinitionError`).
   * @default false
   */
  changelog?: boolean | { readonly name: string }
  /**
   * Key layout. 0: the entity is the hash tag (a batch over many entities is one script call per
   * Cluster slot). N > 0: entities are hashed into N buckets and the bucket is the hash tag, so a
   * batch is at most N script calls, and a Cluster can keep a changelog (one stream per bucket).
   * The two layouts name keys differently: switching needs a migration (README, "Key layout").
   * A whole number in [0, 16384]. @default 0
   */
  buckets?: number
  /**
   * How long Redis may stay unreachable (connection refused, reset, closed; no answer) before the
   * store gives up: every call then fails with `RedisUnreachableError` (not transient), so the sink
   * stops and the pipeline's `run()` rejects with it, naming the address (password redacted). Until
   * then connection errors are transient and the sink retries them: a restart or failover shorter
   * than this loses nothing. A duration > 0 (`'30s'`, ms), or `Infinity` to retry forever.
   * @default '10s'
   */
  unavailableAfter?: Duration
  /**
   * Where connection loss and recovery are reported (once per outage; a pino logger fits).
   * `false` or `null`: silent. @default warnings to stderr, each message at most once a minute
   */
  logger?: Logger | false | null
}

/** An online store backed by Redis. */
export interface RedisStore extends OnlineStore {
  /** The underlying ioredis client (created lazily when the store made it). */
  getInstance(): RedisLike
  /** Connection errors of a client the store created (reconnects; the failed calls were retried by the sink). */
  readonly connectionErrors: number
  /** Key layout: 0 (entity tag) or the number of buckets. */
  readonly buckets: number
  /** Name of the hash holding `entity`'s values. */
  valueKey(entity: string): string
  /** Name of the hash holding the tiles of additive `feature` of `entity`. */
  tileKey(entity: string, feature: string): string
  /** Bucket of `entity` (`buckets` > 0), or 0. */
  bucketOf(entity: string): number
  /** Name of the changelog stream with `changelog` and no buckets, else `undefined`. */
  readonly changelogKey: string | undefined
  /** Names of the changelog streams with `changelog` (one per bucket, or the one), else `undefined`. */
  readonly changelogKeys: readonly string[] | undefined
}
