/**
 * The changelog stream's entries and positions. One entry holds the writes one script call applied
 * (see script.ts), as field/value pairs:
 *
 *   <feature>  <kind><count>        a run of `count` writes of one feature; kind 'v' value, 't' tile
 *   <entity>   <enc>                per value write: the hash field as stored (encoding.ts)
 *   <entity>   <tileStart>,<enc>    per tile write
 *
 * Each string is its own field, so entities and feature names need no escaping (any code point),
 * and values are the store's own encoding, so they read back exactly as `read` returns them. The
 * entry id's ms part is the server's clock when the call's writes were all in; the next ms is their
 * `availableTime` (an upper bound of when they became readable).
 */
import { type FeatureWrite, InvalidArgumentError, type SourcePosition } from '@skewless/core'
import { errorMessage } from '@skewless/core/internal'
import { decodeStored } from './encoding.js'
import { ChangelogFormatError } from './errors.js'

const ID = /^(\d{1,20})-(\d{1,20})$/
const MAX_SEQ = 2n ** 64n - 1n

/**
 * Check a changelog position (a stream id `'<ms>-<seq>'`, as `readChangelog` returns them).
 * @throws InvalidArgumentError naming what was given.
 */
export function checkPosition(p: SourcePosition, what: string): string {
  if (typeof p === 'string' && ID.test(p)) return p
  throw new InvalidArgumentError(
    `online-redis: ${what} must be a changelog position as readChangelog returns it (a stream id '<ms>-<seq>'), got ${JSON.stringify(p)}`,
  )
}

/**
 * Check a `readChangelog` page limit.
 * @throws InvalidArgumentError naming what was given.
 */
export function checkLimit(limit: unknown): number {
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) {
    throw new InvalidArgumentError(
      `online-redis: readChangelog limit must be a whole number >= 1, got ${JSON.stringify(limit)}`,
    )
  }
  return limit
}

/** The smallest stream id after `id` (XTRIM MINID keeps ids >= it). */
export function nextId(id: string): string {
  const m = ID.exec(id) as RegExpExecArray
  const seq = BigInt(m[2] as string)
  return seq < MAX_SEQ ? `${m[1]}-${seq + 1n}` : `${BigInt(m[1] as string) + 1n}-0`
}

/**
 * Append the writes of entry `id` to `out`.
 * @throws ChangelogFormatError when the entry was not written by the apply script.
 */
export function decodeEntry(key: string, id: string, fields: readonly string[], out: FeatureWrite[]): void {
  // The id's ms is the server clock at the XADD (the script's last step), floored to the ms. The
  // writes become readable when the script returns, a few µs later: the next ms is an upper bound,
  // so a read in the same ms that ran before the script is never judged to have missed it (that
  // would let a training row see a value serving did not). The cost: a read in that ms after the
  // script is judged early by up to 1 ms, the conservative side (docs/consistency.md).
  const availableTime = Number(id.slice(0, id.indexOf('-'))) + 1
  let f = 0
  while (f < fields.length) {
    const feature = fields[f] as string
    const head = fields[f + 1]
    const count = head === undefined ? Number.NaN : Number(head.slice(1))
    const tile = head?.charCodeAt(0) === 116
    if ((!tile && head?.charCodeAt(0) !== 118) || !Number.isSafeInteger(count) || count < 1) {
      throw foreign(key, id, `run header ${JSON.stringify(head)} of feature ${JSON.stringify(feature)}`)
    }
    f += 2
    if (f + 2 * count > fields.length) throw foreign(key, id, `a run of ${count} writes is cut short`)
    for (let k = 0; k < count; k++, f += 2) {
      const entity = fields[f] as string
      let raw = fields[f + 1] as string
      let tileStart = 0
      if (tile) {
        const c = raw.indexOf(',')
        tileStart = c === -1 ? Number.NaN : Number(raw.slice(0, c))
        raw = raw.slice(c + 1)
      }
      const stored = decodeStored(raw)
      if (stored === undefined || Number.isNaN(tileStart)) {
        throw foreign(key, id, `value ${JSON.stringify(fields[f + 1])} of entity ${JSON.stringify(entity)}`)
      }
      const w: FeatureWrite = {
        entity,
        feature,
        value: stored.value,
        eventTime: stored.eventTime,
        version: stored.version,
        availableTime,
        outcome: 'applied',
      }
      if (tile) w.tileStart = tileStart
      out.push(w)
    }
  }
}

function foreign(key: string, id: string, what: string): ChangelogFormatError {
  return new ChangelogFormatError(
    errorMessage(
      'online-redis',
      `changelog ${key} entry ${id} was not written by skewless (${what}); only the store may append to its changelog stream`,
      { readme: 'online-redis' },
    ),
  )
}
