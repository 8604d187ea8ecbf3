/**
 * Server addresses as they may appear in logs and error messages: `nats://alice:secret@host:4222`
 * becomes `nats://alice:***@host:4222`, a token URL `nats://tok@host` becomes `nats://***@host`.
 */

/** One server address with its credentials redacted. */
export function redactServer(server: string): string {
  const at = server.lastIndexOf('@')
  if (at < 0) return server
  const scheme = server.indexOf('://')
  const start = scheme < 0 ? 0 : scheme + 3
  if (at < start) return server
  const userInfo = server.slice(start, at)
  const colon = userInfo.indexOf(':')
  const redacted = colon < 0 ? '***' : `${userInfo.slice(0, colon)}:***`
  return `${server.slice(0, start)}${redacted}${server.slice(at)}`
}

/** A list of server addresses, redacted and comma-separated. */
export function redactServers(servers: string | readonly string[] | undefined): string {
  if (servers === undefined) return '(connection given by the caller)'
  const list = typeof servers === 'string' ? [servers] : servers
  return list.map(redactServer).join(', ')
}
