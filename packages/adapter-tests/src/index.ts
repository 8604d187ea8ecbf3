export * from './offline/index.js'
export * from './online/index.js'
export * from './tls-certs.js'
export type * from './types.js'
