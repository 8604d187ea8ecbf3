import * as internal from '@skewless/core/internal'

export {
  ChangelogFormatError,
  isTransientRedisError,
  RedisPermissionError,
  RedisTlsError,
  RedisUnreachableError,
} from './errors.js'
export { keySlot } from './slot.js'
export { redisStore } from './store.js'
export type * from './types.js'

/** An address with its password replaced, `redis://user:***@host:port` (core's one redaction rule). */
export const redactUrl: (url: string) => string = internal.redactUrl
