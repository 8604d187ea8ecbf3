// The real-Redis test helpers: a standalone server that survives kill -9 with AOF, and a Cluster.
import { expect, it } from 'vitest'
import { redisRawCommand, startRedis, startRedisCluster } from '../src/online/redis-server.js'

it('startRedis: free loopback port, AOF survives SIGKILL + restart on the same port, stop cleans up', async () => {
  const server = await startRedis({ useEnv: false, appendonly: true })
  try {
    expect(server.port).not.toBe(6379)
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`)
    expect(await redisRawCommand(server.port, 'SET helper-key kept')).toBe('+OK\r\n')
    await server.kill()
    await expect(redisRawCommand(server.port, 'PING')).rejects.toThrow()
    await server.restart()
    expect(await redisRawCommand(server.port, 'GET helper-key')).toBe('$4\r\nkept\r\n')
  } finally {
    await server.stop()
  }
  await expect(redisRawCommand(server.port, 'PING')).rejects.toThrow()
})

it('startRedisCluster: three masters covering all slots', async () => {
  const cluster = await startRedisCluster({ nodes: 3 })
  try {
    expect(cluster.nodes).toHaveLength(3)
    for (const n of cluster.nodes) {
      const info = await redisRawCommand(n.port, 'CLUSTER INFO')
      expect(info).toContain('cluster_state:ok')
      expect(info).toContain('cluster_slots_assigned:16384')
      expect(info).toContain('cluster_known_nodes:3')
    }
  } finally {
    await cluster.stop()
  }
})
