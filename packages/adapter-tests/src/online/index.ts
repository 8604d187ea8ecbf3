export * from './redis-server.js'
export * from './suite.js'
