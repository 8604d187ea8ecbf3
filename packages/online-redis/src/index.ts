export {
  ChangelogFormatError,
  isTransientRedisError,
  RedisPermissionError,
  RedisTlsError,
  RedisUnreachableError,
} from './errors.js'
export { redisStore } from './store.js'
export type * from './types.js'
