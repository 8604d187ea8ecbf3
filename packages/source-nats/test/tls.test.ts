/**
 * TLS against real `nats-server -js --tls` processes with certificates from a CA the test makes
 * (`makeTestCa`, openssl): reads work with the CA trusted; an untrusted CA, a certificate for another
 * host, a plaintext client and a server without TLS are refused with `NatsTlsError` — never a
 * plaintext fallback — and no error or log line carries the password.
 */
import { connect as tcpConnect } from 'node:net'
import { inspect } from 'node:util'
import { makeTestCa, type TestCa } from '@skewless/adapter-tests'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type NatsSourceLogger, type NatsSourceOptions, NatsTlsError, natsSource } from '../src/index.js'
import { type Click, createStream, jetstream, publishClicks, readEvents } from './fixtures.js'
import { type NatsServerHandle, startNats } from './nats-server.js'

const auth = { user: 'alice', pass: 's3cret-tls-pw' }
let ca: TestCa
const servers: NatsServerHandle[] = []

beforeAll(() => {
  ca = makeTestCa()
})
afterAll(() => ca?.remove())
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()))
})

/** A TLS-only server presenting `cert` (signed by the test CA unless said otherwise), with stream CLICKS of 20 clicks. */
async function tlsServer(cert: 'server' | 'ipOnly' | 'wrongHost' | 'rogueServer'): Promise<NatsServerHandle> {
  const files = ca[cert]
  const s = await startNats({
    auth,
    tls: { certFile: files.certFile, keyFile: files.keyFile, caFile: ca.ca.certFile },
  })
  servers.push(s)
  if (cert === 'server' || cert === 'ipOnly') await fillStream(s)
  return s
}

async function fillStream(s: NatsServerHandle): Promise<void> {
  const nc = await s.connect()
  try {
    await createStream(nc, 'CLICKS', ['clicks.>'])
    await publishClicks(jetstream(nc), 0, 20, (n) => `clicks.${n % 3}`)
  } finally {
    await nc.close()
  }
}

function memoryLogger(): NatsSourceLogger & { lines: string[] } {
  const lines: string[] = []
  const keep = (level: string) => (fields: object, message: string) => {
    lines.push(`${level} ${message} ${JSON.stringify(fields)}`)
  }
  return { lines, info: keep('info'), warn: keep('warn'), error: keep('error') }
}

/**
 * Open a source with `options` and expect it to fail before any event: returns the error, checked
 * to be a `NatsTlsError` that names the server with the password redacted and leaks it nowhere.
 */
async function expectRefused(url: string, options: Partial<NatsSourceOptions<Click>>): Promise<NatsTlsError> {
  const logger = memoryLogger()
  const events: Click[] = []
  const source = natsSource<Click>({
    servers: url,
    stream: 'CLICKS',
    maxReconnectTimeMs: 10_000,
    reconnectWaitMs: 100,
    logger,
    ...options,
  })
  const err = await readEvents(source, undefined, 1, (b) => {
    events.push(...b.events)
  }).catch((e: unknown) => e)
  expect(events).toEqual([])
  expect(source.metrics().messages).toBe(0)
  // NatsTlsError, not NatsUnavailableError: refused on the first attempt, not after retrying until
  // maxReconnectTimeMs.
  expect(err).toBeInstanceOf(NatsTlsError)
  const e = err as NatsTlsError
  expect(e.code).toBe('nats-tls')
  expect(e.message).toContain(`alice:***@127.0.0.1:`)
  const everything = `${inspect(e, { depth: 10 })} ${e.server} ${logger.lines.join('\n')}`
  expect(everything).not.toContain(auth.pass)
  if (process.env.SHOW_TLS_ERRORS) console.error(e.message)
  return e
}

describe('source-nats over TLS', () => {
  it('reads every message from a TLS server with the test CA, given as PEM (tls:// URL) or as a file (nats:// URL)', async () => {
    const s = await tlsServer('server')
    const viaPem = natsSource<Click>({
      servers: `tls://alice:${auth.pass}@127.0.0.1:${s.port}`,
      stream: 'CLICKS',
      tls: { ca: ca.caPem.toString('utf8') },
    })
    const read = await readEvents(viaPem, undefined, 20)
    expect(read.events.map((e) => e.n)).toEqual(Array.from({ length: 20 }, (_, i) => i))
    const viaFile = natsSource<Click>({
      servers: `nats://alice:${auth.pass}@127.0.0.1:${s.port}`,
      stream: 'CLICKS',
      tls: { caFile: ca.ca.certFile },
    })
    expect((await readEvents(viaFile, 10, 10)).events.map((e) => e.n)).toEqual(
      Array.from({ length: 10 }, (_, i) => 10 + i),
    )
  })

  it('refuses a server whose certificate is signed by a CA it does not trust', async () => {
    const s = await tlsServer('rogueServer')
    const e = await expectRefused(`tls://alice:${auth.pass}@127.0.0.1:${s.port}`, {
      tls: { ca: ca.caPem.toString('utf8') },
    })
    expect(e.message).toMatch(/certificate was refused/)
    // Node's `rejectUnauthorized: false`, slipped in past the type, is not passed to the client.
    const sneaky = {
      ca: ca.caPem.toString('utf8'),
      rejectUnauthorized: false,
    } as NatsSourceOptions<Click>['tls']
    await expectRefused(`tls://alice:${auth.pass}@127.0.0.1:${s.port}`, { tls: sneaky })
  })

  it('refuses a certificate from the trusted CA that is for another host', async () => {
    const s = await tlsServer('wrongHost')
    const e = await expectRefused(`tls://alice:${auth.pass}@127.0.0.1:${s.port}`, {
      tls: { caFile: ca.ca.certFile },
    })
    expect(e.message).toContain('ERR_TLS_CERT_ALTNAME_INVALID')
    // Checked against the address connected to, not Node's fallback name 'localhost'.
    expect(e.message).toContain("127.0.0.1 is not in the cert's list")
  })

  it('checks a certificate against the IP address of the URL: a certificate for exactly that IP is accepted', async () => {
    // The client gives Node no server name for an IP address, and Node then checks the certificate
    // against 'localhost': this certificate (IP:127.0.0.1 only) would be refused.
    const s = await tlsServer('ipOnly')
    const source = natsSource<Click>({
      servers: `tls://alice:${auth.pass}@127.0.0.1:${s.port}`,
      stream: 'CLICKS',
      tls: { caFile: ca.ca.certFile },
      maxReconnectTimeMs: 10_000,
    })
    expect((await readEvents(source, undefined, 20)).events).toHaveLength(20)
  })

  it('a plaintext nats:// source without the CA gets no data from a TLS-only server', async () => {
    const s = await tlsServer('server')
    // The client upgrades to TLS because the server requires it, then cannot verify the test CA.
    await expectRefused(`nats://alice:${auth.pass}@127.0.0.1:${s.port}`, {})
  })

  it('the TLS-only server itself refuses a plaintext protocol client (raw socket: no PONG, no message)', async () => {
    const s = await tlsServer('server')
    const socket = tcpConnect(s.port, '127.0.0.1')
    let received = ''
    let sent = false
    socket.on('data', (d) => {
      received += d.toString('latin1')
      if (!sent && received.startsWith('INFO ') && received.includes('\r\n')) {
        sent = true
        socket.write(
          `CONNECT {"user":"${auth.user}","pass":"${auth.pass}","verbose":false}\r\nSUB clicks.> 1\r\nPING\r\n`,
        )
      }
    })
    // Bounded: the server closes the connection (TLS handshake expected); 5 s at most.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => resolve(), 5000)
      socket.once('close', () => {
        clearTimeout(timer)
        resolve()
      })
      socket.once('error', () => undefined)
    })
    const closed = socket.destroyed
    socket.destroy()
    expect(received).toMatch(/"tls_required":true/)
    expect(sent).toBe(true)
    expect(received).not.toContain('PONG')
    expect(received).not.toContain('MSG ')
    expect(closed).toBe(true)
  })

  it('never falls back to plaintext: a tls option or a tls:// URL against a server without TLS is refused', async () => {
    const plain = await startNats({ auth })
    servers.push(plain)
    await fillStream(plain)
    const e = await expectRefused(`nats://alice:${auth.pass}@127.0.0.1:${plain.port}`, {
      tls: { caFile: ca.ca.certFile },
    })
    expect(e.message).toMatch(/server does not offer it/)
    await expectRefused(`tls://alice:${auth.pass}@127.0.0.1:${plain.port}`, {})
  })
})
