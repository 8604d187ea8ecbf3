/**
 * Secret hygiene, one rule for every package: passwords and tokens must never reach an error
 * message, a `cause`, a stack or a log line. An address is shown as `redis://user:***@host:port`
 * (a token URL `nats://token@host` as `nats://***@host`). Adapters register the passwords of the
 * clients they create (`registerSecret`) and scrub every error they surface (`scrubError`).
 *
 * Exported for the Skewless adapter packages (online-redis, source-nats) and adapter authors; not
 * needed by pipeline code.
 */

/** What replaces a secret. */
export const REDACTED = '***'

/** `scheme://user:password@` in any text (a raw `@` inside a password is caught by the registered secrets). */
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:@/\s]*):[^@/\s]*@/gi

/** Passwords of the clients this process created; shorter ones are not searched (they would mask unrelated text). */
const secrets = new Set<string>()
const MIN_SECRET_LENGTH = 3

/** Register a password (and its percent-encoded form) so `redactText` removes it wherever it appears. */
export function registerSecret(secret: unknown): void {
  if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) return
  secrets.add(secret)
  const encoded = encodeURIComponent(secret)
  if (encoded !== secret) secrets.add(encoded)
}

/** `scheme://token@` (user info without a colon: a NATS token, or a user name alone). */
const URL_TOKEN = /([a-z][a-z0-9+.-]*:\/\/)[^:@/\s]+@/gi

/**
 * One address with its credentials replaced: `redis://user:***@host:port`, `nats://***@host` for a
 * token. The user info runs to the last `@`, so a password holding a raw `@` is hidden whole. Text
 * holding spaces (not one address) is scrubbed as text (`redactText`).
 */
export function redactUrl(url: string): string {
  if (/\s/.test(url)) return redactText(url)
  const at = url.lastIndexOf('@')
  const scheme = url.indexOf('://')
  const start = scheme < 0 ? 0 : scheme + 3
  if (at < start) return redactSecrets(url)
  const userInfo = url.slice(start, at)
  const colon = userInfo.indexOf(':')
  const hidden = colon < 0 ? REDACTED : `${userInfo.slice(0, colon)}:${REDACTED}`
  return redactSecrets(`${url.slice(0, start)}${hidden}${url.slice(at)}`)
}

/** Several addresses (a string or a list), each redacted, comma-separated. */
export function redactUrls(urls: string | readonly string[]): string {
  return (typeof urls === 'string' ? [urls] : urls).map(redactUrl).join(', ')
}

/** `text` with every URL password or token and every registered secret replaced by `***`. */
export function redactText(text: string): string {
  return redactSecrets(text.replace(URL_PASSWORD, `$1:${REDACTED}@`).replace(URL_TOKEN, `$1${REDACTED}@`))
}

function redactSecrets(text: string): string {
  let out = text
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED)
  return out
}

/** String properties of Node and ioredis errors that may quote a URL or a secret. */
const TEXT_FIELDS = ['message', 'stack', 'input', 'address'] as const

/**
 * Scrub `err` and its `cause` chain in place: message, stack, the field Node puts the offending
 * input in (`ERR_INVALID_URL` keeps the whole URL in `input`) and the command ioredis attaches to a
 * reply error (a refused `AUTH` keeps the password in `command.args`). In place, because a caller
 * that logs the cause we keep must not see more than the message we wrote.
 */
export function scrubError(err: unknown): void {
  const seen = new Set<unknown>()
  let e = err
  while (typeof e === 'object' && e !== null && !seen.has(e)) {
    seen.add(e)
    const rec = e as Record<string, unknown>
    for (const field of TEXT_FIELDS) {
      const v = rec[field]
      if (typeof v !== 'string') continue
      const clean = redactText(v)
      if (clean !== v) trySet(rec, field, clean)
    }
    const cmd = rec.command as { name?: unknown; args?: unknown } | undefined
    if (typeof cmd === 'object' && cmd !== null && Array.isArray(cmd.args)) {
      trySet(cmd as Record<string, unknown>, 'args', scrubArgs(String(cmd.name), cmd.args))
    }
    e = rec.cause
  }
}

/** A command's arguments without credentials: AUTH's password, HELLO's `AUTH user password`. */
function scrubArgs(name: string, args: readonly unknown[]): unknown[] {
  const lower = name.toLowerCase()
  if (lower === 'auth') return args.map((a, i) => (i === args.length - 1 ? REDACTED : a))
  const out = args.map((a) => (typeof a === 'string' ? redactText(a) : a))
  if (lower === 'hello') {
    const at = out.findIndex((a) => typeof a === 'string' && a.toLowerCase() === 'auth')
    if (at !== -1 && at + 2 < out.length) out[at + 2] = REDACTED
  }
  return out
}

function trySet(rec: Record<string, unknown>, field: string, value: unknown): void {
  try {
    rec[field] = value
  } catch {
    // A frozen or getter-only field: left as it is (the adapters' tests grep every error they surface).
  }
}
