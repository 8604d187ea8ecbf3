// Secret hygiene: a password in the store's URL never shows in an error (message, stack, cause chain,
// any field util.inspect prints), a console line, the sink's metrics or dead letters; an address in a
// message is shown as redis://user:***@host:port.
import { inspect } from 'node:util'
import { freeLoopbackPort, type RedisServerHandle, startRedis } from '@skewless/adapter-tests'
import { collectingSink, InvalidDefinitionError } from '@skewless/core'
import { redisStore } from '@skewless/online-redis'
import {
  type OnlineDeadLetter,
  type OnlineFeatureConfig,
  onlineReader,
  onlineSink,
} from '@skewless/online-sink'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { userArgs, writerAcl } from './acl.js'

const SECRET = 's3cret-Pa55'
const T = Date.UTC(2026, 10, 1)
const score: OnlineFeatureConfig = { name: 'score', valueType: 'double', strategy: 'cas' }
const fm = new Map([[score.name, score]])
const write = { entity: 'e1', feature: 'score', value: 1, eventTime: T, version: 0 }

/** Everything a log line could print of an error: message, stack, every field, the whole cause chain. */
function everyText(err: unknown): string {
  const parts: string[] = [inspect(err, { depth: 20, showHidden: true }), String(err)]
  for (let e = err, d = 0; typeof e === 'object' && e !== null && d < 20; d++) {
    parts.push(String((e as Error).message), String((e as Error).stack), JSON.stringify(e) ?? '')
    e = (e as { cause?: unknown }).cause
  }
  return parts.join('\n')
}

describe('no password in any error, log line or metric', () => {
  let server: RedisServerHandle
  const logged: string[] = []
  beforeAll(async () => {
    server = await startRedis({ useEnv: false, args: userArgs([writerAcl('app', SECRET, 'other:')]) })
  })
  afterAll(async () => {
    await server?.stop()
  })
  beforeEach(() => {
    logged.length = 0
    for (const m of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, m).mockImplementation((...args: unknown[]) => {
        logged.push(args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 20 }))).join(' '))
      })
    }
    const write = process.stderr.write.bind(process.stderr)
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown, ...rest: unknown[]) => {
      logged.push(String(chunk))
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest)
    })
  })
  afterEach(() => {
    vi.restoreAllMocks()
  })

  /** Run a store through apply, read, a sink and a reader; return every error and output it produced. */
  async function run(url: string): Promise<{ errors: unknown[]; texts: string[] }> {
    const errors: unknown[] = []
    const store = redisStore({ url, clientOptions: { retryStrategy: () => 5 } })
    store.getInstance() // the raw client's own error events, scrubbed by the store's listener first
    ;(store.getInstance() as unknown as { on(e: string, f: (e: unknown) => void): void }).on('error', (e) =>
      errors.push(e),
    )
    errors.push(await store.apply([write], fm).catch((e: unknown) => e))
    errors.push(await store.read(['e1'], [score]).catch((e: unknown) => e))
    const dead = collectingSink<OnlineDeadLetter>()
    const sink = onlineSink({
      store,
      features: [score],
      deadLetters: dead,
      retry: { retries: 2, minDelayMs: 1 },
    })
    await sink.write([write])
    await sink.close().catch((e: unknown) => errors.push(e))
    errors.push(
      await onlineReader({ store, features: [score] })
        .get(['e1'], ['score'])
        .catch((e: unknown) => e),
    )
    await store.close()
    const texts = [
      ...errors.map(everyText),
      ...dead.items.map((d) => JSON.stringify(d)),
      JSON.stringify(sink.metrics()),
      JSON.stringify(store),
      inspect(store, { depth: 3 }),
      String(store.connectionErrors),
      ...logged,
    ]
    expect(
      errors.filter((e) => e instanceof Error).length,
      'the run produced no error to check',
    ).toBeGreaterThan(1)
    expect(dead.items.length).toBe(1)
    return { errors, texts }
  }

  it('a closed port: connection errors, retries exhausted, dead letters', async () => {
    const port = await freeLoopbackPort()
    const { texts } = await run(`redis://app:${SECRET}@127.0.0.1:${port}`)
    for (const t of texts) expect(t).not.toContain(SECRET)
    expect(texts.join('\n')).toMatch(/ECONNREFUSED 127\.0\.0\.1/) // the address is said, without credentials
  })

  it('a wrong password (AUTH refused) and a refused write (NOPERM): the replies carry no password', async () => {
    const wrong = await run(server.url.replace('redis://', `redis://app:${SECRET}-wrong@`))
    for (const t of wrong.texts) expect(t).not.toContain(SECRET)
    expect(wrong.texts.join('\n')).toMatch(/WRONGPASS|NOAUTH/)
    const refused = await run(server.url.replace('redis://', `redis://app:${SECRET}@`)) // ACL on other:*
    for (const t of refused.texts) expect(t).not.toContain(SECRET)
    expect(refused.texts.join('\n')).toMatch(/NOPERM/)
  })

  it('an unparsable URL: InvalidDefinitionError names it redacted, the cause keeps no copy', () => {
    let err: unknown
    try {
      redisStore({ url: `redis://app:${SECRET}@127.0.0.1:99999` })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(InvalidDefinitionError)
    expect((err as Error).message).toContain('redis://app:***@127.0.0.1:99999')
    expect(everyText(err)).not.toContain(SECRET)
    expect(logged.join('\n')).not.toContain(SECRET)
  })
})
