/**
 * TLS of a connection the source opens: when it is required, and which connect failures are TLS
 * refusals (final, not retried) rather than a server that is not up yet.
 */
import { isIP } from 'node:net'
import { checkServerIdentity, type PeerCertificate } from 'node:tls'
import type { NatsTlsOptions } from './types.js'

/** What the source passes as the client's `tls`: the user's fields, plus the identity check. */
export type ClientTls = NatsTlsOptions & {
  checkServerIdentity?: (host: string, cert: PeerCertificate) => Error | undefined
}

/**
 * The client's `tls` option. An object (even empty) makes the client refuse a server without TLS,
 * so a `tls://` URL or a `tls` option never falls back to plaintext. Only the listed fields are
 * copied: the client would also pass through e.g. `rejectUnauthorized: false`, which must not slip in.
 */
export function clientTls(
  servers: string | readonly string[] | undefined,
  tls: NatsTlsOptions | undefined,
): ClientTls | undefined {
  const list = servers === undefined ? [] : typeof servers === 'string' ? [servers] : servers
  const tlsUrl = list.some((s) => s.toLowerCase().startsWith('tls://'))
  if (tls === undefined && !tlsUrl) return undefined
  const { ca, caFile, cert, certFile, key, keyFile, handshakeFirst } = tls ?? {}
  const out: ClientTls = {}
  for (const [k, v] of Object.entries({ ca, caFile, cert, certFile, key, keyFile, handshakeFirst })) {
    if (v !== undefined) (out as Record<string, unknown>)[k] = v
  }
  const ips = list.map(hostOf).filter((h) => isIP(h) !== 0)
  const names = list.map(hostOf).filter((h) => isIP(h) === 0)
  if (ips.length > 0 && !names.includes('localhost')) {
    out.checkServerIdentity = (host, cert) => {
      if (host !== 'localhost') return checkServerIdentity(host, cert)
      // The client gives Node no server name when it dials an IP address, and Node then checks
      // the certificate against 'localhost': any 'localhost' certificate of the CA would pass for
      // any address, and a certificate for the address itself would fail. Check it against the
      // addresses of the URLs instead (which of them was dialled is not known here).
      let first: Error | undefined
      for (const ip of ips) {
        const err = checkServerIdentity(ip, cert)
        if (err === undefined) return undefined
        first ??= err
      }
      return first
    }
  }
  return out
}

/** The host of a server URL (`tls://u:p@10.0.0.5:4222` → `10.0.0.5`, `[::1]:4222` → `::1`). */
function hostOf(server: string): string {
  const scheme = server.indexOf('://')
  let rest = scheme < 0 ? server : server.slice(scheme + 3)
  rest = rest.slice(rest.lastIndexOf('@') + 1)
  if (rest.startsWith('[')) return rest.slice(1, rest.indexOf(']'))
  const colon = rest.indexOf(':')
  const slash = rest.indexOf('/')
  const end = colon >= 0 ? colon : slash >= 0 ? slash : rest.length
  return rest.slice(0, end)
}

/** Node's codes for a server certificate that does not verify (OpenSSL's X509 errors, host mismatch). */
const CERT_CODES = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
])

/**
 * Why a connect failure is a TLS refusal and what to change, or undefined when it is not one: a
 * certificate that does not verify, a TLS handshake that failed, or a server without the TLS we require.
 */
export function tlsRefusal(err: unknown): string | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && (CERT_CODES.has(code) || code.startsWith('ERR_SSL_'))) {
      return `the server's certificate was refused (${code}: ${e.message}): give the CA that signed it in \`tls.ca\`/\`tls.caFile\`, and connect with a host name or address the certificate is for`
    }
    if (/server does not support 'tls'|tls is not available/i.test(e.message)) {
      return `TLS is required (a \`tls\` option or a tls:// URL) but the server does not offer it (${e.message}): enable TLS on the server; the source never falls back to plaintext`
    }
  }
  return undefined
}
