import { describe, expect, it } from 'vitest'
import { redactText, redactUrl, redactUrls, registerSecret, scrubError } from '../src/internal.js'

describe('redaction: one rule for every package', () => {
  it('an address keeps scheme, user, host and port; a password or token is hidden whole', () => {
    expect(redactUrl('redis://user:pw-x@host:6379/0')).toBe('redis://user:***@host:6379/0')
    expect(redactUrl('rediss://:only-pw@h:1')).toBe('rediss://:***@h:1')
    expect(redactUrl('tls://tok3n@host:4222')).toBe('tls://***@host:4222')
    // A raw '@' inside the password: the user info runs to the last '@' (the old Redis copy left 'ss@').
    expect(redactUrl('redis://a:p@ss@h:1')).toBe('redis://a:***@h:1')
    expect(redactUrl('127.0.0.1:4222')).toBe('127.0.0.1:4222')
    expect(redactUrl('redis://h:6379')).toBe('redis://h:6379')
    expect(redactUrls(['nats://a:b@h:1', 'nats://h:2'])).toBe('nats://a:***@h:1, nats://h:2')
  })

  it('free text: URL passwords, URL tokens and registered secrets go', () => {
    expect(redactText('see redis://a:b%40c@h:1 and nats://u:p@n:4222')).toBe(
      'see redis://a:***@h:1 and nats://u:***@n:4222',
    )
    // The old Redis copy kept tokens: 'connect nats://s3cr3t-token@h:4222 failed' went out as is.
    expect(redactText('connect nats://s3cr3t-token@h:4222 failed')).toBe('connect nats://***@h:4222 failed')
    registerSecret('hunter2-registered')
    expect(redactText('AUTH hunter2-registered refused')).toBe('AUTH *** refused')
  })

  it('scrubError cleans message, stack and the cause chain in place', () => {
    registerSecret('pa55word-in-cause')
    const inner = new Error('ECONNREFUSED redis://app:pa55word-in-cause@127.0.0.1:1')
    const outer = new Error('call failed', { cause: inner })
    scrubError(outer)
    expect(inner.message).toBe('ECONNREFUSED redis://app:***@127.0.0.1:1')
    expect(String(inner.stack)).not.toContain('pa55word-in-cause')
  })
})
