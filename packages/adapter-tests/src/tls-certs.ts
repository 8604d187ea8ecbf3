/**
 * A throw-away certificate authority for TLS tests (Redis now, NATS later): made by the test with
 * `openssl` in a temp dir, never trusted by anything but the clients the test configures.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** PEM files of one certificate and its key. */
export interface CertFiles {
  /** Certificate (PEM). */
  readonly certFile: string
  /** Unencrypted private key (PEM). */
  readonly keyFile: string
}

/** The files `makeTestCa` wrote. */
export interface TestCa {
  /** Directory holding every file; `remove()` deletes it. */
  readonly dir: string
  /** The trusted test CA (give `caFile` to the server and to the clients). */
  readonly ca: CertFiles
  /** `caFile` contents, for an ioredis / Node `tls: { ca }` option. */
  readonly caPem: Buffer
  /** Server certificate for `localhost` and `127.0.0.1`, signed by `ca`. */
  readonly server: CertFiles
  /** Server certificate signed by `ca` for the address `127.0.0.1` only (no DNS name). */
  readonly ipOnly: CertFiles
  /** Server certificate signed by `ca` for another host only (`wrong.example`). */
  readonly wrongHost: CertFiles
  /** Another CA, not trusted by the clients, and a server certificate for `127.0.0.1` signed by it. */
  readonly rogueCa: CertFiles
  /** Server certificate for `localhost` and `127.0.0.1` signed by `rogueCa`. */
  readonly rogueServer: CertFiles
  /** Delete the directory. */
  remove(): void
}

/**
 * Create a CA and server certificates with `openssl` (RSA 2048, valid one day).
 * @throws Error naming the missing tool when `openssl` is not on PATH.
 */
export function makeTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'skewless-tls-'))
  const run = (args: string[]) => {
    try {
      execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
    } catch (err) {
      throw new Error(`openssl ${args[0]} failed: install openssl (apt-get install openssl)`, { cause: err })
    }
  }
  const makeCa = (name: string): CertFiles => {
    run([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
    ])
    return { certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) }
  }
  const makeLeaf = (name: string, ca: CertFiles, cn: string, san: string): CertFiles => {
    run([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    ])
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`)
    run([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      ca.certFile,
      '-CAkey',
      ca.keyFile,
      '-CAcreateserial',
      '-days',
      '1',
      '-out',
      `${name}.crt`,
      '-extfile',
      `${name}.ext`,
    ])
    return { certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) }
  }
  try {
    const ca = makeCa('test-ca')
    const rogueCa = makeCa('rogue-ca')
    const local = 'DNS:localhost,IP:127.0.0.1'
    return {
      dir,
      ca,
      caPem: readFileSync(ca.certFile),
      server: makeLeaf('server', ca, 'localhost', local),
      ipOnly: makeLeaf('ip-only', ca, '127.0.0.1', 'IP:127.0.0.1'),
      wrongHost: makeLeaf('wrong-host', ca, 'wrong.example', 'DNS:wrong.example'),
      rogueCa,
      rogueServer: makeLeaf('rogue-server', rogueCa, 'localhost', local),
      remove: () => rmSync(dir, { recursive: true, force: true }),
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
}
