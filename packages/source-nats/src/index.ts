/** One server address with its credentials redacted (core's `redactUrl`, the rule every package uses). */
export { redactUrl as redactServer } from '@skewless/core'
export { jsonDecoder } from './decoder.js'
export { NatsConsumerError, type NatsSourceErrorCode, NatsTlsError, NatsUnavailableError } from './errors.js'
export { type RateLimitedLoggerOptions, rateLimitedStderrLogger } from './logger.js'
export { natsPartitionSources, natsSource } from './nats-source.js'
export type * from './types.js'
