import * as internal from '@skewless/core/internal'

export { jsonDecoder } from './decoder.js'
export { NatsConsumerError, type NatsSourceErrorCode, NatsTlsError, NatsUnavailableError } from './errors.js'
export { natsPartitionSources, natsSource } from './nats-source.js'
export type * from './types.js'

/** One server address with its credentials redacted (core's one redaction rule): `nats://alice:***@host:4222`, `nats://***@host` for a token. */
export const redactServer: (server: string) => string = internal.redactUrl
