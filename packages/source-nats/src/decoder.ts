/** The default decoder: a UTF-8 JSON document per message. */

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Parse a payload as UTF-8 JSON; throws (so the message is dead-lettered) on bad UTF-8 or JSON. */
export function jsonDecoder(data: Uint8Array): unknown {
  return JSON.parse(utf8.decode(data))
}
