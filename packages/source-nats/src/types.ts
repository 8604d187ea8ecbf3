/**
 * The contract of @skewless/source-nats: a JetStream stream (or one partition of it) read as a
 * core `ResumableSource` whose position is a stream sequence. Dependency-free types only: the NATS
 * client appears only as the structural subset this package calls (`NatsConnectionLike`).
 */
import type { Duration, ResumableSource, Sink } from '@skewless/core'

/**
 * Turns a message payload into an event. Throw to reject the message: it becomes a dead letter
 * (`NatsDeadLetter`) and the source goes on.
 */
export type NatsDecoder<E> = (data: Uint8Array, subject: string) => E

/** A message the decoder rejected. Its sequence is still covered by the next batch's position. */
export interface NatsDeadLetter {
  /** The subject the message was stored under. */
  subject: string
  /** Its stream sequence. */
  seq: number
  /** Machine-readable reason: always `'undecodable'` (one name for it across dead letters and errors). */
  reason: 'undecodable'
  /** Human-readable: the decoder's error message. (Before 0.2 it was in `reason`.) */
  message: string
  /** The raw payload. */
  data: Uint8Array
}

/**
 * The subset of a pino logger the source writes to: `(fields, message)`. A pino or bunyan logger
 * fits as is.
 */
export interface NatsSourceLogger {
  /** Reconnected, consumer recreated. */
  info(fields: object, message: string): void
  /** Disconnected, heartbeats missed, messages dead-lettered. */
  warn(fields: object, message: string): void
  /** The source gives up (reconnect bound exceeded, consumer cannot be created). */
  error(fields: object, message: string): void
}

/**
 * The part of a `NatsConnection` (from `@nats-io/transport-node`) the source relies on when the user
 * passes one. Pass the connection itself; this type only keeps the contract free of client types.
 */
export interface NatsConnectionLike {
  /** Whether `close()` was called or the client gave up reconnecting. */
  isClosed(): boolean
  /** The server the client is connected to, e.g. `'127.0.0.1:4222'`. */
  getServer(): string
}

/**
 * TLS settings of a connection the source opens: PEM text or the path of a PEM file, passed to the
 * client's `tls` option. Verification of the server's certificate cannot be disabled.
 */
export interface NatsTlsOptions {
  /** CA certificate(s) trusted for the server's certificate (PEM text). @default Node's trusted CAs */
  ca?: string
  /** Path of a PEM file with the CA certificate(s); read by the client at connect. */
  caFile?: string
  /** Client certificate (PEM text), for a server that verifies clients (`--tlsverify`). */
  cert?: string
  /** Path of the client certificate (PEM). */
  certFile?: string
  /** Client private key (PEM text, unencrypted). */
  key?: string
  /** Path of the client private key (PEM). */
  keyFile?: string
  /** TLS handshake before the server's INFO; the server needs `handshake_first: true`. @default false */
  handshakeFirst?: boolean
}

/** Options shared by `natsSource` and `natsPartitionSources`. */
export interface NatsSourceBaseOptions<E> {
  /**
   * A connection (from `@nats-io/transport-node`'s `connect`) to use. The source never closes it.
   * Give `connection` or `servers`.
   */
  connection?: NatsConnectionLike
  /**
   * Server URL(s), e.g. `'nats://user:pass@10.0.0.5:4222'`: the source connects when first opened
   * and closes the connection when the last of its readers ends. Credentials are never logged.
   */
  servers?: string | readonly string[]
  /**
   * TLS for a connection the source opens (ignored with `connection`). Given — or with a `tls://`
   * server URL — the source requires TLS: a server without it is refused (`NatsTlsError`), never
   * read in plaintext. The server's certificate is always verified against `ca`/`caFile` (else
   * Node's trusted CAs) and the host name of the URL; there is deliberately no way to turn that off.
   */
  tls?: NatsTlsOptions
  /** Client name shown by the server's monitoring. @default 'skewless-source-nats' */
  clientName?: string
  /** The JetStream stream to read. */
  stream: string
  /** Events per batch, at most. @default 1000 */
  batchSize?: number
  /**
   * How long a partial batch may wait for more messages, from its first message, before it is
   * yielded (the linger bound); whole ms. @default '50ms'
   */
  maxWait?: Duration
  /** @deprecated Use `maxWait` (a `Duration`). */
  maxWaitMs?: number
  /**
   * Messages read ahead of the pipeline, at most: past it the source stops pulling and resumes, from
   * the next sequence, once the pipeline has taken half. @default 4 × batchSize
   */
  maxBufferedMessages?: number
  /** Decodes each payload. @default JSON (UTF-8 text parsed with `JSON.parse`) */
  decoder?: NatsDecoder<E>
  /** Where rejected messages go. They are counted in `metrics().deadLetters` either way. */
  deadLetters?: Sink<NatsDeadLetter>
  /**
   * Stream sequence to start from when `open` gets no position (`undefined` or `null`): 1 reads
   * everything the stream still holds.
   * @default 1
   */
  startSequence?: number
  /**
   * How long the connection may stay lost before the reader fails with `NatsUnavailableError`.
   * Also bounds the first connect, and retries of consumer creation. @default '60s'
   */
  maxReconnectTime?: Duration
  /** @deprecated Use `maxReconnectTime` (a `Duration`). */
  maxReconnectTimeMs?: number
  /** Pause between reconnect attempts of a connection the source opened. @default '1s' */
  reconnectWait?: Duration
  /** @deprecated Use `reconnectWait` (a `Duration`). */
  reconnectWaitMs?: number
  /** Where reconnects, consumer resets and dead letters are reported. @default a stderr logger printing each kind of message at most once per 10 s */
  logger?: NatsSourceLogger
}

/** Options of `natsSource`: one stream, or the part of it matching `filterSubject`. */
export interface NatsSourceOptions<E> extends NatsSourceBaseOptions<E> {
  /** Read only the messages whose subject matches, e.g. `'clicks.3.>'`. @default every subject of the stream */
  filterSubject?: string
  /** The source's name (the key of its position in a checkpoint). @default `stream`, or `'<stream>/<filterSubject>'` */
  name?: string
}

/** Options of `natsPartitionSources`: one source per partition of a partitioned stream. */
export interface NatsPartitionOptions<E> extends NatsSourceBaseOptions<E> {
  /** The partitions to read (a worker's share), e.g. `[0, 2]`. */
  partitions: readonly number[]
  /**
   * The subject filter of a partition: `{partition}` is replaced by its number, e.g.
   * `'clicks.{partition}.>'` for a stream whose producers (or subject mapping) write
   * `clicks.<partition>.<entity>`.
   */
  partitionSubject: string
}

/** Counters of one source, over all its `open` calls. */
export interface NatsSourceMetrics {
  /** Messages received from the server. */
  messages: number
  /** Events yielded in batches. */
  events: number
  /** Batches yielded. */
  batches: number
  /** Messages the decoder rejected. */
  deadLetters: number
  /** Stream sequence of the last message yielded or dead-lettered (0 before any). */
  lastSequence: number
  /** Times the connection was lost. */
  disconnects: number
  /** Times it came back. */
  reconnects: number
  /** Times the ordered consumer was recreated after a reconnect, a gap or a lost consumer (pauses not counted). */
  consumerResets: number
  /** Times the source stopped pulling because `maxBufferedMessages` were waiting. */
  pauses: number
  /** Messages read but not yet yielded. */
  buffered: number
  /**
   * Sequences a resumed reader could not read because the stream's limits had already removed them
   * (logged as an error). Non-zero means data was lost before it was processed; with a subject filter
   * it is an upper bound (some of those sequences may have been other subjects').
   */
  retentionGaps: number
}

/** A `ResumableSource` over a JetStream stream; its position is the stream sequence of the last message of a batch. */
export interface NatsSource<E> extends ResumableSource<E> {
  /** The subject filter, or `undefined` for the whole stream. */
  readonly filterSubject: string | undefined
  /** A snapshot of the counters. */
  metrics(): NatsSourceMetrics
}
