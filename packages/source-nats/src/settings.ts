/**
 * Options resolved once per source: defaults applied and checked, so a bad option fails when the
 * source is made, not when it is first read.
 */
import { type Duration, InvalidDefinitionError, type Sink } from '@skewless/core'
import { durationOption } from '@skewless/core/internal'
import { jsonDecoder } from './decoder.js'
import { defaultNatsLogger } from './logger.js'
import type {
  NatsDeadLetter,
  NatsDecoder,
  NatsSourceBaseOptions,
  NatsSourceLogger,
  NatsSourceMetrics,
} from './types.js'

/** What a reader needs, with every default applied. */
export interface ReaderSettings<E> {
  name: string
  stream: string
  filterSubject: string | undefined
  batchSize: number
  maxWaitMs: number
  maxBufferedMessages: number
  /** Messages requested from the server per pull: half the read-ahead, so the next pull overlaps. */
  pullSize: number
  startSequence: number
  decoder: NatsDecoder<E>
  deadLetters: Sink<NatsDeadLetter> | undefined
  logger: NatsSourceLogger
  metrics: NatsSourceMetrics
  /** The server(s) for messages, credentials redacted. */
  server: string
  maxReconnectTimeMs: number
  reconnectWaitMs: number
}

/** Zeroed counters. */
export function emptyMetrics(): NatsSourceMetrics {
  return {
    messages: 0,
    events: 0,
    batches: 0,
    deadLetters: 0,
    lastSequence: 0,
    disconnects: 0,
    reconnects: 0,
    consumerResets: 0,
    pauses: 0,
    buffered: 0,
    retentionGaps: 0,
  }
}

function whole(what: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new InvalidDefinitionError(`source-nats: ${what} must be a whole number >= ${min}, got ${value}`)
  }
  return value
}

/** A duration option (a `Duration`, or its deprecated `*Ms` number): whole ms >= `min`. */
function wholeMs(
  name: string,
  value: Duration | undefined,
  legacyName: string,
  legacy: number | undefined,
  dflt: number,
  min: number,
): number {
  const d = durationOption('source-nats', name, value, legacyName, legacy)
  return whole(d.name, d.ms ?? dflt, min)
}

/** The connection's durations, in ms (shared by the sources of one connection). */
export function connectionTimes<E>(options: NatsSourceBaseOptions<E>): {
  maxReconnectTimeMs: number
  reconnectWaitMs: number
} {
  return {
    maxReconnectTimeMs: wholeMs(
      'maxReconnectTime',
      options.maxReconnectTime,
      'maxReconnectTimeMs',
      options.maxReconnectTimeMs,
      60_000,
      1,
    ),
    reconnectWaitMs: wholeMs(
      'reconnectWait',
      options.reconnectWait,
      'reconnectWaitMs',
      options.reconnectWaitMs,
      1000,
      1,
    ),
  }
}

/** Check the options shared by every source and apply their defaults (`name`, `filterSubject`: the caller's). */
export function resolveSettings<E>(
  options: NatsSourceBaseOptions<E>,
  name: string,
  filterSubject: string | undefined,
  server: string,
): ReaderSettings<E> {
  if (typeof options.stream !== 'string' || options.stream === '' || /[\s.*>]/.test(options.stream)) {
    throw new InvalidDefinitionError(
      `source-nats: stream must be a JetStream stream name (no spaces, '.', '*' or '>'), got ${JSON.stringify(options.stream)}`,
    )
  }
  if ((options.connection === undefined) === (options.servers === undefined)) {
    throw new InvalidDefinitionError('source-nats: give either `connection` or `servers`')
  }
  if (filterSubject !== undefined && (filterSubject === '' || /\s/.test(filterSubject))) {
    throw new InvalidDefinitionError(`source-nats: bad subject filter ${JSON.stringify(filterSubject)}`)
  }
  const batchSize = whole('batchSize', options.batchSize ?? 1000, 1)
  const maxBufferedMessages = whole('maxBufferedMessages', options.maxBufferedMessages ?? 4 * batchSize, 2)
  if (maxBufferedMessages < batchSize) {
    throw new InvalidDefinitionError(
      `source-nats: maxBufferedMessages (${maxBufferedMessages}) must be >= batchSize (${batchSize}), or no batch could fill`,
    )
  }
  return {
    name,
    stream: options.stream,
    filterSubject,
    batchSize,
    maxWaitMs: wholeMs('maxWait', options.maxWait, 'maxWaitMs', options.maxWaitMs, 50, 0),
    maxBufferedMessages,
    pullSize: Math.max(1, Math.floor(maxBufferedMessages / 2)),
    startSequence: whole('startSequence', options.startSequence ?? 1, 1),
    decoder: options.decoder ?? (jsonDecoder as NatsDecoder<E>),
    deadLetters: options.deadLetters,
    logger: options.logger ?? defaultNatsLogger(),
    metrics: emptyMetrics(),
    server,
    ...connectionTimes(options),
  }
}
