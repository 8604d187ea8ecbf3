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
