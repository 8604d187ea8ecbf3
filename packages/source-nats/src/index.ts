export { jsonDecoder } from './decoder.js'
export { NatsConsumerError, type NatsSourceErrorCode, NatsTlsError, NatsUnavailableError } from './errors.js'
export { natsPartitionSources, natsSource } from './nats-source.js'
export type * from './types.js'
