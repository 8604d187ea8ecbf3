/**
 * Secret hygiene: passwords must never reach an error message, a `cause`, a stack or a log line.
 * Errors that name an address show it as `redis://user:***@host:port`. The store registers the
 * passwords of the clients it creates; every error it surfaces is scrubbed of them here.
 *
 * (Meant to move to @skewless/core once the NATS source needs the same: one rule, every package.)
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

/** A URL with its password replaced: `redis://user:***@host:port`; text that is no URL is scrubbed as text. */
export function redactUrl(url: string): string {
  return redactText(url)
}

/** `text` with every URL password and every registered secret replaced by `***`. */
export function redactText(text: string): string {
  let out = text.replace(URL_PASSWORD, `$1:${REDACTED}@`)
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED)
  return out
}

/** String properties of Node and ioredis errors that may quote a URL or a command's arguments. */
const TEXT_FIELDS = ['message', 'stack', 'input', 'address', 'command', 'args'] as const

/**
 * Scrub `err` and its `cause` chain in place: message, stack and the fields Node puts the
 * offending input in (`ERR_INVALID_URL` keeps the whole URL in `input`). In place, because a
 * caller that logs the cause we keep must not see more than the message we wrote.
 */
export function scrubError(err: unknown): void {
  const seen = new Set<unknown>()
  let e = err
  while (typeof e === 'object' && e !== null && !seen.has(e)) {
    seen.add(e)
    const rec = e as Record<string, unknown>
    for (const field of TEXT_FIELDS) {
      const v = rec[field]
      if (typeof v === 'string') {
        const clean = redactText(v)
        if (clean !== v) trySet(rec, field, clean)
      } else if (field === 'args' && Array.isArray(v)) {
        // ioredis keeps a failed command's arguments (AUTH carries the password).
        const clean = v.map((a) => (typeof a === 'string' ? redactText(a) : a))
        if (clean.some((a, i) => a !== v[i])) trySet(rec, field, clean)
      }
    }
    e = rec.cause
  }
}

function trySet(rec: Record<string, unknown>, field: string, value: unknown): void {
  try {
    rec[field] = value
  } catch {
    // A frozen or getter-only field: left as it is (a test greps every error this store surfaces).
  }
}
