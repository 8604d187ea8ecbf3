/**
 * The errors of @skewless/source-nats. Messages name the server with its credentials redacted
 * (core's one redaction rule), say what to change, and keep `cause`.
 */
import { SkewlessError, type SkewlessErrorOptions } from '@skewless/core'
import { errorMessage } from '@skewless/core/internal'

/** Stable codes of this package's errors. */
export type NatsSourceErrorCode = 'nats-unavailable' | 'nats-consumer' | 'nats-tls'

/** Options of the errors that name a server. */
export interface NatsErrorOptions extends SkewlessErrorOptions {
  /** The server address(es), already redacted. */
  server: string
}

/**
 * The server could not be reached: the first connect failed, or the connection stayed lost longer
 * than `maxReconnectTimeMs`. The source's position is unchanged: reopen it when the server is back.
 */
export class NatsUnavailableError extends SkewlessError {
  /** Always `'nats-unavailable'`. */
  declare readonly code: 'nats-unavailable'
  /** The server address(es), credentials redacted. */
  readonly server: string

  constructor(message: string, options: NatsErrorOptions) {
    super('nats-unavailable', errorMessage('source-nats', message), options)
    this.server = options.server
  }
}

/** The stream or its consumer is unusable: missing stream, bad subject filter, refused consumer. */
export class NatsConsumerError extends SkewlessError {
  /** Always `'nats-consumer'`. */
  declare readonly code: 'nats-consumer'
  /** The server address(es), credentials redacted. */
  readonly server: string

  constructor(message: string, options: NatsErrorOptions) {
    super('nats-consumer', errorMessage('source-nats', message), options)
    this.server = options.server
  }
}

/**
 * The TLS connection was refused: the server's certificate is not signed by a trusted CA or not for
 * the host connected to, or TLS was required and the server does not offer it. Not retried: waiting
 * cannot fix a certificate; fix the `tls` option, the server URL or the server's certificate.
 */
export class NatsTlsError extends SkewlessError {
  /** Always `'nats-tls'`. */
  declare readonly code: 'nats-tls'
  /** The server address(es), credentials redacted. */
  readonly server: string

  constructor(message: string, options: NatsErrorOptions) {
    super('nats-tls', errorMessage('source-nats', message), options)
    this.server = options.server
  }
}
